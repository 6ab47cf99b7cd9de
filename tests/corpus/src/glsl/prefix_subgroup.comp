#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer Data { uint v[]; } ;
layout(std430, binding = 1) buffer Ballot { uvec4 masks[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    uint x = v[i];
    v[i] = subgroupInclusiveAdd(x);
    uvec4 m = subgroupBallot((x & 1u) == 1u);
    if (subgroupElect()) masks[gl_WorkGroupID.x] = m;
    uint mx = subgroupMax(x);
    if (gl_SubgroupInvocationID == 0u) masks[gl_WorkGroupID.x].w = mx + subgroupBallotBitCount(m);
}
