#version 450
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(input_attachment_index = 0, binding = 0) uniform subpassInput prev;
void main() {
    vec4 p = subpassLoad(prev);
    vec3 g = mix(vec3(0.1, 0.2, 0.6), vec3(0.9, 0.5, 0.1), uv.y);
    ivec2 cell = ivec2(floor(uv * 8.0));
    if (((cell.x ^ cell.y) & 1) == 1) g *= 0.8;
    color = vec4(mix(g, p.rgb, p.a), 1.0);
}
