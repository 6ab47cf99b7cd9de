#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
ulong rotl64(ulong x, uint r) { return (x << r) | (x >> (64u - r)); }
__kernel void xorshift(__global ulong *state, __global double *out, uint rounds) {
    size_t gid = get_global_id(0);
    ulong s = state[gid] | 1UL;
    for (uint i = 0; i < rounds; ++i) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        s = rotl64(s, 11u) * 0x2545F4914F6CDD1DUL;
    }
    state[gid] = s;
    long signed_part = (long)s >> 11;
    out[gid] = (double)signed_part * 0x1.0p-53 + sqrt((double)(s & 0xffff));
}
