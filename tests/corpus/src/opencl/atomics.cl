__kernel void histogram(__global const uchar *data, uint n, __global uint *bins) {
    __local uint local_bins[256];
    uint lid = get_local_id(0);
    for (uint b = lid; b < 256; b += get_local_size(0)) local_bins[b] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = get_global_id(0); i < n; i += get_global_size(0)) atomic_inc(&local_bins[data[i]]);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint b = lid; b < 256; b += get_local_size(0)) atomic_add(&bins[b], local_bins[b]);
}
__kernel void find_max(__global const int *v, __global int *result, __global volatile int *count) {
    int x = v[get_global_id(0)];
    atomic_max(result, x);
    if (x < 0) atomic_inc(count);
    atomic_cmpxchg(count + 1, 0, (int)get_global_id(0));
    atomic_xchg(count + 2, x);
}
