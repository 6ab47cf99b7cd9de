#version 450
layout(location = 0) in vec2 inPos;
layout(location = 0) out flat uint outInstance;
layout(location = 1) out vec3 outColor;
struct Instance { vec2 offset; float scale; float hue; };
layout(std430, set = 0, binding = 0) readonly buffer Instances { Instance inst[]; };
vec3 hue2rgb(float h) {
    vec3 k = abs(fract(vec3(h) + vec3(1.0, 2.0 / 3.0, 1.0 / 3.0)) * 6.0 - 3.0);
    return clamp(k - 1.0, 0.0, 1.0);
}
void main() {
    Instance it = inst[gl_InstanceIndex];
    gl_Position = vec4(inPos * it.scale + it.offset, 0.0, 1.0);
    outInstance = uint(gl_InstanceIndex);
    outColor = hue2rgb(it.hue);
}
