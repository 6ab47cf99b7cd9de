#version 450
layout(location = 0) in vec3 worldPos;
layout(location = 1) in vec3 normal;
layout(location = 0) out vec4 outColor;
struct Light { vec4 position; vec4 color; };
layout(constant_id = 0) const int NUM_LIGHTS = 4;
layout(std140, binding = 0) uniform Lights { Light lights[NUM_LIGHTS]; vec4 camPos; float roughness; float metallic; } L;
const float PI = 3.14159265;
float distributionGGX(vec3 N, vec3 H, float r) {
    float a = r * r, a2 = a * a;
    float d = max(dot(N, H), 0.0);
    float denom = d * d * (a2 - 1.0) + 1.0;
    return a2 / (PI * denom * denom);
}
void fresnel(float cosTheta, vec3 F0, out vec3 F) { F = F0 + (1.0 - F0) * pow(1.0 - cosTheta, 5.0); }
void main() {
    vec3 N = normalize(normal), V = normalize(L.camPos.xyz - worldPos);
    vec3 Lo = vec3(0.0);
    for (int i = 0; i < NUM_LIGHTS; ++i) {
        vec3 Ld = normalize(L.lights[i].position.xyz - worldPos);
        vec3 H = normalize(V + Ld);
        vec3 F;
        fresnel(max(dot(H, V), 0.0), mix(vec3(0.04), vec3(1.0), L.metallic), F);
        Lo += distributionGGX(N, H, L.roughness) * F * L.lights[i].color.rgb * max(dot(N, Ld), 0.0);
    }
    outColor = vec4(Lo / (Lo + 1.0), 1.0);
}
