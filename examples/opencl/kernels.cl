// OpenCL C kernels calling the library in vecmath.cl: the declarations become Imports.
float lerp_f(float a, float b, float t);
uint popcount_u(uint x);
ulong mix64(ulong x);

kernel void blend(global float *out, global const float *a, global const float *b, float t) {
    size_t i = get_global_id(0);
    out[i] = lerp_f(a[i], b[i], t);
}

kernel void bits(global uint *out, global const uint *in) {
    size_t i = get_global_id(0);
    out[i] = popcount_u(in[i]);
}

kernel void hash64(global ulong *out) {
    size_t i = get_global_id(0);
    out[i] = mix64((ulong)i);
}
