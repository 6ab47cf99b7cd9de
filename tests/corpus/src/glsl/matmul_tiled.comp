#version 450
layout(local_size_x = 8, local_size_y = 8) in;
layout(constant_id = 0) const uint TILE = 8;
layout(std430, binding = 0) readonly buffer MA { float A[]; };
layout(std430, binding = 1) readonly buffer MB { float B[]; };
layout(std430, binding = 2) writeonly buffer MC { float C[]; };
layout(push_constant) uniform Dims { uint M; uint N; uint K; } d;
shared float tA[8][8];
shared float tB[8][8];
void main() {
    uint row = gl_GlobalInvocationID.y, col = gl_GlobalInvocationID.x;
    uint ly = gl_LocalInvocationID.y, lx = gl_LocalInvocationID.x;
    float acc = 0.0;
    for (uint t = 0u; t < (d.K + TILE - 1u) / TILE; ++t) {
        uint ka = t * TILE + lx, kb = t * TILE + ly;
        tA[ly][lx] = (row < d.M && ka < d.K) ? A[row * d.K + ka] : 0.0;
        tB[ly][lx] = (col < d.N && kb < d.K) ? B[kb * d.N + col] : 0.0;
        barrier();
        for (uint k = 0u; k < 8u; ++k) acc += tA[ly][k] * tB[k][lx];
        barrier();
    }
    if (row < d.M && col < d.N) C[row * d.N + col] = acc;
}
