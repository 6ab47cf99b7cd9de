#version 450
layout(local_size_x = 32) in;
struct Inner { ivec2 range; float w[3]; };
struct Outer { Inner parts[4]; uint count; bool enabled; };
layout(std430, binding = 0) readonly buffer In { Outer objs[]; };
layout(std430, binding = 1) writeonly buffer Out { vec2 summary[]; };
void summarize(Outer o, out float total, out int span) {
    total = 0.0; span = 0;
    for (uint k = 0u; k < min(o.count, 4u); ++k) {
        Inner p = o.parts[k];
        total += p.w[0] + p.w[1] * 2.0 + p.w[2] * 3.0;
        span += p.range.y - p.range.x;
    }
}
void main() {
    Outer o = objs[gl_GlobalInvocationID.x];
    float t; int s;
    if (o.enabled) summarize(o, t, s); else { t = -1.0; s = 0; }
    summary[gl_GlobalInvocationID.x] = vec2(t, float(s));
}
