#version 450
layout(local_size_x = 64) in;
struct Node { uint next; uint key; float value; };
layout(std430, binding = 0) buffer Heads { uint heads[]; };
layout(std430, binding = 1) buffer Nodes { uint counter; Node nodes[]; };
layout(std430, binding = 2) readonly buffer Input { uvec2 items[]; };
layout(constant_id = 0) const uint BUCKETS = 1024u;
layout(constant_id = 1) const bool USE_HASH = true;
uint bucket_of(uint key) { return USE_HASH ? (key * 2654435761u) % BUCKETS : key % BUCKETS; }
void main() {
    uvec2 it = items[gl_GlobalInvocationID.x];
    uint slot = atomicAdd(counter, 1u);
    nodes[slot].key = it.x;
    nodes[slot].value = uintBitsToFloat(it.y);
    uint b = bucket_of(it.x);
    nodes[slot].next = atomicExchange(heads[b], slot);
}
