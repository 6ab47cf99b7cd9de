__constant sampler_t smp = CLK_NORMALIZED_COORDS_FALSE | CLK_ADDRESS_CLAMP_TO_EDGE | CLK_FILTER_NEAREST;
__kernel void sobel(__read_only image2d_t src, __write_only image2d_t dst) {
    int2 p = (int2)(get_global_id(0), get_global_id(1));
    float gx = 0.0f, gy = 0.0f;
    const int kx[3][3] = { { -1, 0, 1 }, { -2, 0, 2 }, { -1, 0, 1 } };
    for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
            float v = read_imagef(src, smp, p + (int2)(dx, dy)).x;
            gx += kx[dy + 1][dx + 1] * v;
            gy += kx[dx + 1][dy + 1] * v;
        }
    float m = hypot(gx, gy);
    write_imagef(dst, p, (float4)(m, m, m, 1.0f));
}
