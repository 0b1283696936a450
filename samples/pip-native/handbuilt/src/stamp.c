/* A helper archived into libhelpers.a: the build's date and time (gcc takes them from
   SOURCE_DATE_EPOCH when it is set) and the path of this file as the build named it. */
const char *stamp(void) { return __DATE__ " " __TIME__ " " __FILE__; }
