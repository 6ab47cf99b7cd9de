#version 450
layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer In { uint data[]; };
layout(std430, binding = 1) buffer Out { uint partial[]; };
shared uint scratch[128];
void main() {
    uint lid = gl_LocalInvocationID.x;
    scratch[lid] = data[gl_GlobalInvocationID.x];
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        memoryBarrierShared();
        barrier();
    }
    if (lid == 0u) partial[gl_WorkGroupID.x] = scratch[0];
}
