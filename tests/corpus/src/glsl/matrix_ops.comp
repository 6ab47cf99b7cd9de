#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer Mats { mat4 m[]; };
layout(std430, binding = 1) buffer Dets { float det[]; };
void decompose(mat4 a, out mat3 rot, out vec3 scale) {
    scale = vec3(length(a[0].xyz), length(a[1].xyz), length(a[2].xyz));
    rot = mat3(a[0].xyz / scale.x, a[1].xyz / scale.y, a[2].xyz / scale.z);
}
void main() {
    uint i = gl_GlobalInvocationID.x;
    mat4 a = m[i];
    mat3 r; vec3 s;
    decompose(a, r, s);
    det[i] = determinant(a) + determinant(r) + s.x;
    m[i] = transpose(inverse(a)) * matrixCompMult(a, outerProduct(vec4(s, 1.0), vec4(1.0)));
}
