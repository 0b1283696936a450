/* A helper in a static library that CMake archives. */
int thrice(int value) { return 3 * value; }
