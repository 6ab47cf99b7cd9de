#version 450
layout(location = 0) in vec3 inPos;
layout(location = 1) in vec3 inNormal;
layout(location = 2) in vec2 inUV;
layout(location = 0) out vec3 outNormal;
layout(location = 1) out vec2 outUV;
layout(location = 2) out vec3 outWorld;
layout(set = 0, binding = 0) uniform Camera { mat4 view; mat4 proj; } cam;
layout(push_constant) uniform Model { mat4 model; } pc;
void main() {
    vec4 world = pc.model * vec4(inPos, 1.0);
    outWorld = world.xyz;
    outNormal = mat3(transpose(inverse(pc.model))) * inNormal;
    outUV = inUV;
    gl_Position = cam.proj * cam.view * world;
}
