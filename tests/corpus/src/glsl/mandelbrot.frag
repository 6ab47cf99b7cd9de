#version 450
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(constant_id = 0) const int MAX_ITER = 128;
layout(push_constant) uniform View { vec2 center; float zoom; } view;
void main() {
    vec2 c = view.center + (uv - 0.5) * view.zoom;
    vec2 z = vec2(0.0);
    int i;
    for (i = 0; i < MAX_ITER; ++i) {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        if (dot(z, z) > 4.0) break;
    }
    float t = float(i) / float(MAX_ITER);
    color = vec4(t, t * t, sqrt(t), 1.0);
}
