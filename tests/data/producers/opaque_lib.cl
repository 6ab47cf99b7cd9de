typedef struct { float scale; int bias; } params_t;
float apply(global const params_t *p, global const float *x, int i) {
    return x[i] * p->scale + (float)p->bias;
}
