#version 450
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(binding = 0) uniform sampler2D hdr;
layout(push_constant) uniform P { int mode; float exposure; } p;
vec3 aces(vec3 x) { return clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0); }
void main() {
    vec3 c = texture(hdr, uv).rgb * p.exposure;
    switch (p.mode) {
    case 0: c = c / (c + 1.0); break;
    case 1: c = aces(c); break;
    case 2: c = 1.0 - exp(-c); break;
    default: c = clamp(c, 0.0, 1.0); break;
    }
    color = vec4(pow(c, vec3(1.0 / 2.2)), 1.0);
}
