#version 450
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Keys { int keys[]; };
layout(push_constant) uniform Step { uint j; uint k; } st;
void compare_swap(uint a, uint b, bool up) {
    int x = keys[a], y = keys[b];
    if ((x > y) == up) { keys[a] = y; keys[b] = x; }
}
void main() {
    uint i = gl_GlobalInvocationID.x;
    uint ixj = i ^ st.j;
    if (ixj > i) compare_swap(i, ixj, (i & st.k) == 0u);
}
