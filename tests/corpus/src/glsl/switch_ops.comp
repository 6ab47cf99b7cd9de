#version 450
layout(local_size_x = 16) in;
struct Op { int code; float a; float b; };
layout(std430, binding = 0) readonly buffer Ops { Op ops[]; };
layout(std430, binding = 1) writeonly buffer Res { float res[]; };
float apply(Op op) {
    switch (op.code) {
    case 0: return op.a + op.b;
    case 1: return op.a - op.b;
    case 2: return op.a * op.b;
    case 3:
        if (op.b == 0.0) return 0.0;
        return op.a / op.b;
    case 4: case 5: return max(op.a, op.b);
    case -1: return -op.a;
    default: break;
    }
    return op.a;
}
void main() { res[gl_GlobalInvocationID.x] = apply(ops[gl_GlobalInvocationID.x]); }
