typedef struct { float x, y, z; } vec3_t;
typedef struct { vec3_t center; float radius; int material; } sphere_t;
typedef struct { vec3_t origin; vec3_t dir; } ray_t;
static float dot3(vec3_t a, vec3_t b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static vec3_t sub3(vec3_t a, vec3_t b) { vec3_t r = { a.x - b.x, a.y - b.y, a.z - b.z }; return r; }
float hit_sphere(const sphere_t *s, const ray_t *r) {
    vec3_t oc = sub3(r->origin, s->center);
    float b = dot3(oc, r->dir);
    float c = dot3(oc, oc) - s->radius * s->radius;
    float disc = b * b - c;
    return disc < 0.0f ? -1.0f : -b - sqrt(disc);
}
__kernel void trace(__global const sphere_t *spheres, int n, __global const ray_t *rays, __global float *t_out, __global int *mat_out) {
    size_t i = get_global_id(0);
    ray_t r = rays[i];
    float best = INFINITY; int mat = -1;
    for (int k = 0; k < n; ++k) {
        sphere_t s = spheres[k];
        float t = hit_sphere(&s, &r);
        if (t > 0.0f && t < best) { best = t; mat = s.material; }
    }
    t_out[i] = best; mat_out[i] = mat;
}
