#version 450
layout(local_size_x = 256) in;
layout(binding = 0, r32ui) uniform readonly uimage2D img;
layout(std430, binding = 1) buffer Hist { uint bins[256]; };
shared uint local_bins[256];
void main() {
    local_bins[gl_LocalInvocationIndex] = 0u;
    barrier();
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    uint v = imageLoad(img, p).r & 255u;
    atomicAdd(local_bins[v], 1u);
    barrier();
    atomicAdd(bins[gl_LocalInvocationIndex], local_bins[gl_LocalInvocationIndex]);
}
