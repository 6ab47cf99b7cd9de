#version 450
// glslang --no-link exports both under the one name "f".
float f(float x) { return x * 2.0 + 1.0; }
float f(vec2 v) { return v.x * 3.0 + v.y; }
