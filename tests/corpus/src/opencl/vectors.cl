float4 lerp4(float4 a, float4 b, float t) { return a + (b - a) * t; }
__kernel void color_grade(__global const uchar4 *in, __global uchar4 *out, float4 lift, float4 gain, float mixf) {
    size_t i = get_global_id(0);
    float4 c = convert_float4(in[i]) / 255.0f;
    float4 graded = clamp(c * gain + lift, 0.0f, 1.0f);
    float luma = dot(graded.xyz, (float3)(0.2126f, 0.7152f, 0.0722f));
    float4 gray = (float4)(luma, luma, luma, c.w);
    out[i] = convert_uchar4_sat(lerp4(graded, gray, mixf) * 255.0f);
}
__kernel void swizzle_ops(__global int8 *v, __global short2 *s) {
    size_t i = get_global_id(0);
    int8 x = v[i];
    x.s0123 = x.s7654 + (int4)(1, 2, 3, 4);
    v[i] = x.s10325476 ^ (x >> 2);
    s[i] = s[i].yx * (short2)(3, -3);
}
