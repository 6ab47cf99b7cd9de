#version 450
// Same name and type as overloads.comp's f(float), another body.
float f(float x) { return x * 5.0; }
