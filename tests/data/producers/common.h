// Shared by the three C++ for OpenCL translation units of test_link_producers.py.
// At -O0 every unit that uses sq<T> or twice() exports its own copy of them.
template <typename T> T sq(T x) { return x * x; }
inline float twice(float x) { return x + x; }
float scale(float x);
int offset(int x);
