#version 450
layout(local_size_x = 64) in;
struct Particle { vec4 pos; vec4 vel; float mass; uint flags; vec2 pad; };
layout(std430, binding = 0) buffer Particles { Particle p[]; };
layout(std140, binding = 1) uniform Params { vec4 gravity; float dt; float damping; uint count; } params;
void integrate(inout Particle q, out float energy) {
    q.vel.xyz += params.gravity.xyz * params.dt;
    q.vel.xyz *= params.damping;
    q.pos.xyz += q.vel.xyz * params.dt;
    if (q.pos.y < 0.0) { q.pos.y = -q.pos.y; q.vel.y = -q.vel.y; q.flags |= 1u; }
    energy = 0.5 * q.mass * dot(q.vel.xyz, q.vel.xyz);
}
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= params.count) return;
    Particle q = p[i];
    float e;
    integrate(q, e);
    q.pos.w = e;
    p[i] = q;
}
