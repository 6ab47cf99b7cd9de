// An OpenCL C library: its non-static functions become SPIR-V Exports.
float lerp_f(float a, float b, float t) {
    return a + (b - a) * t;
}

uint popcount_u(uint x) {
    uint n = 0;
    while (x) {
        n += x & 1u;
        x >>= 1;
    }
    return n;
}

ulong mix64(ulong x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdUL;
    x ^= x >> 33;
    return x;
}
