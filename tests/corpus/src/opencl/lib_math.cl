/* Library half of a pair: defines functions that kernel_user.cl imports. */
float smoothstep_cubic(float e0, float e1, float x) {
    float t = clamp((x - e0) / (e1 - e0), 0.0f, 1.0f);
    return t * t * (3.0f - 2.0f * t);
}
int gcd_int(int a, int b) {
    while (b != 0) { int t = a % b; a = b; b = t; }
    return a < 0 ? -a : a;
}
void minmax(__global const float *v, int n, float *lo, float *hi) {
    float a = v[0], b = v[0];
    for (int i = 1; i < n; ++i) { a = fmin(a, v[i]); b = fmax(b, v[i]); }
    *lo = a; *hi = b;
}
