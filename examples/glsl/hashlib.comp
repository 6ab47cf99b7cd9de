#version 450
// A GLSL library: compiled with `glslang -V --no-link`, every function is exported.
// glslang passes parameters as pointers in Function storage, so an importer declares
// `uint hash_u32(uint*)` (see ../asm/hash_main.spvasm).

uint hash_u32(uint x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

uint scale_add(uint x, uint k) {
    return x * k + 7u;
}
