/* User half of a pair: calls functions defined in lib_math.cl. */
extern float smoothstep_cubic(float e0, float e1, float x);
extern int gcd_int(int a, int b);
extern void minmax(__global const float *v, int n, float *lo, float *hi);
__kernel void normalize_smooth(__global float *v, int n, __global int *g) {
    size_t i = get_global_id(0);
    float lo, hi;
    minmax(v, n, &lo, &hi);
    v[i] = smoothstep_cubic(lo, hi, v[i]);
    g[i] = gcd_int((int)i + 12, 18);
}
