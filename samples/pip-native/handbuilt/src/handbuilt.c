/* handbuilt.tally(n) -> 1 + ... + n and handbuilt.stamp() -> "<date> <time> <file>", from
   helpers in a static library. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int tally(int count);
const char *stamp(void);

static PyObject *py_tally(PyObject *self, PyObject *args) {
    int count;
    if (!PyArg_ParseTuple(args, "i", &count)) {
        return NULL;
    }
    return PyLong_FromLong(tally(count));
}

static PyObject *py_stamp(PyObject *self, PyObject *unused) { return PyUnicode_FromString(stamp()); }

static PyMethodDef methods[] = {
    {"tally", py_tally, METH_VARARGS, "1 + ... + n."},
    {"stamp", py_stamp, METH_NOARGS, "The build's date, time and a source path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "handbuilt", NULL, -1, methods};

PyMODINIT_FUNC PyInit_handbuilt(void) { return PyModule_Create(&module); }
