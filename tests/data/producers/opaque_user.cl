typedef struct { float scale; int bias; } params_t;
// Intel's llvm-spirv declares this import with i8 pointees (opaque pointers).
float apply(global const params_t *p, global const float *x, int i);
kernel void run(global float *out, global const params_t *p, global const float *x) {
    int i = (int)get_global_id(0);
    out[i] = apply(p, x, i);
}
