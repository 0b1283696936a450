/* A helper in a static library that meson archives. */
int twice(int value) { return 2 * value; }
