#version 450
#extension GL_ARB_gpu_shader_int64 : require
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Keys { uint64_t keys[]; };
layout(std430, binding = 1) buffer Hashes { uint64_t hashes[]; };
layout(constant_id = 0) const int ROUNDS = 3;
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
    return z ^ (z >> 31);
}
void main() {
    uint i = gl_GlobalInvocationID.x;
    uint64_t h = keys[i] + 0x9e3779b97f4a7c15UL;
    for (int r = 0; r < ROUNDS; ++r) h = mix64(h + uint64_t(r));
    int64_t s = int64_t(h) >> 3;
    hashes[i] = h ^ uint64_t(s);
}
