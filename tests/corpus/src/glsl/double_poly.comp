#version 450
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer X { double xs[]; };
layout(std430, binding = 1) readonly buffer Coef { double coef[8]; int degree; };
double horner(double x) {
    double acc = 0.0LF;
    for (int k = degree; k >= 0; --k) acc = acc * x + coef[k];
    return acc;
}
void main() {
    uint i = gl_GlobalInvocationID.x;
    double x = xs[i];
    xs[i] = horner(x) + fma(x, x, 1.0LF) * sqrt(abs(x));
}
