#version 450
layout(location = 0) in vec4 inPos;
layout(location = 1) in uvec4 inJoints;
layout(location = 2) in vec4 inWeights;
layout(location = 0) out vec4 outColor;
layout(constant_id = 0) const int MAX_JOINTS = 64;
layout(std140, set = 0, binding = 0) uniform Skin { mat4 joints[MAX_JOINTS]; mat4 viewProj; } skin;
mat4 blend() {
    mat4 m = mat4(0.0);
    for (int i = 0; i < 4; ++i) m += skin.joints[inJoints[i]] * inWeights[i];
    return m;
}
void main() {
    mat4 m = blend();
    gl_Position = skin.viewProj * m * inPos;
    outColor = vec4(inWeights.xyz, 1.0);
}
