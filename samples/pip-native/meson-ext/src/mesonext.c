/* mesonext.twice(n) -> 2n, from a helper in a static library. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int twice(int value);

static PyObject *py_twice(PyObject *self, PyObject *args) {
    int value;
    if (!PyArg_ParseTuple(args, "i", &value)) {
        return NULL;
    }
    return PyLong_FromLong(twice(value));
}

static PyMethodDef methods[] = {
    {"twice", py_twice, METH_VARARGS, "2n."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "mesonext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_mesonext(void) { return PyModule_Create(&module); }
