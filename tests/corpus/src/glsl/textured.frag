#version 450
layout(location = 0) in vec2 uv;
layout(location = 1) in vec3 normal;
layout(location = 0) out vec4 color;
layout(set = 0, binding = 1) uniform sampler2D albedo;
layout(set = 0, binding = 2) uniform sampler2D normalMap;
layout(push_constant) uniform Light { vec4 dir; vec4 tint; } light;
void main() {
    vec4 base = texture(albedo, uv);
    vec3 n = normalize(normal + texture(normalMap, uv * 2.0).xyz * 2.0 - 1.0);
    float lambert = max(dot(n, -light.dir.xyz), 0.0);
    color = vec4(base.rgb * lambert * light.tint.rgb, base.a);
    if (color.a < 0.01) discard;
}
