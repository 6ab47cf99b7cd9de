typedef enum { OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_MIN = 7, OP_MAX = 100 } opcode_t;
int apply(int op, int a, int b) {
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_MIN: return min(a, b);
    case OP_MAX: return max(a, b);
    case -5: return -a;
    default: return 0;
    }
}
long apply_long(long sel, long v) {
    switch (sel) {
    case 0x100000000L: return v << 1;
    case -1L: return ~v;
    case 3L: return v * 3;
    default: return v;
    }
}
__kernel void run_ops(__global const int *ops, __global const int2 *args, __global int *res, __global long *lres) {
    size_t i = get_global_id(0);
    res[i] = apply(ops[i], args[i].x, args[i].y);
    lres[i] = apply_long((long)ops[i] << 32, (long)args[i].x);
}
