#version 450
layout(location = 0) in vec4 shadowCoord;
layout(location = 1) in vec3 baseColor;
layout(location = 0) out vec4 color;
layout(binding = 0) uniform sampler2DShadow shadowMap;
layout(binding = 1) uniform sampler2DArray layers;
float pcf(vec4 sc) {
    vec2 texel = 1.0 / vec2(textureSize(shadowMap, 0));
    float s = 0.0;
    for (int x = -1; x <= 1; ++x)
        for (int y = -1; y <= 1; ++y)
            s += texture(shadowMap, vec3(sc.xy + vec2(x, y) * texel, sc.z));
    return s / 9.0;
}
void main() {
    vec4 sc = shadowCoord / shadowCoord.w;
    float lit = pcf(sc);
    vec3 detail = textureLod(layers, vec3(sc.xy, 1.0), 0.0).rgb;
    color = vec4(baseColor * detail * (0.3 + 0.7 * lit), 1.0);
}
