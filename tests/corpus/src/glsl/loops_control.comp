#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) buffer Out { int results[16]; };
int collatz(int n) {
    int steps = 0;
    while (n != 1) {
        n = (n % 2 == 0) ? n / 2 : 3 * n + 1;
        steps++;
        if (steps > 1000) break;
    }
    return steps;
}
int sum_odd_until(int limit) {
    int s = 0, i = 0;
    do {
        i++;
        if (i % 2 == 0) continue;
        s += i;
    } while (i < limit);
    return s;
}
void main() {
    for (int i = 0; i < 8; i++) results[i] = collatz(i + 1);
    for (int i = 8; i < 16; i++) results[i] = sum_odd_until(i * 3);
}
