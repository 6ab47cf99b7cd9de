#version 450
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z = 1) in;
layout(constant_id = 2) const int SCALE = 4;
layout(constant_id = 3) const float BIAS = 0.5;
layout(constant_id = 4) const bool NEGATE = false;
layout(constant_id = 5) const uint MASK = 0xffu;
const int SCALE2 = SCALE * 2 + 1;
const uint MASKED = MASK & 0x0fu;
layout(std430, binding = 0) buffer Buf { float v[]; };
void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    float x = v[i] * float(SCALE2) + BIAS;
    if (NEGATE) x = -x;
    v[i] = x + float(MASKED);
}
