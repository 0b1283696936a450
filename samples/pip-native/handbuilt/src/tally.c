/* A helper archived into libhelpers.a. */
int tally(int count) { return count * (count + 1) / 2; }
