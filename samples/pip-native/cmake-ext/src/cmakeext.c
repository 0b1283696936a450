/* cmakeext.thrice(n) -> 3n, from a helper in a static library. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int thrice(int value);

static PyObject *py_thrice(PyObject *self, PyObject *args) {
    int value;
    if (!PyArg_ParseTuple(args, "i", &value)) {
        return NULL;
    }
    return PyLong_FromLong(thrice(value));
}

static PyMethodDef methods[] = {
    {"thrice", py_thrice, METH_VARARGS, "3n."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cmakeext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_cmakeext(void) { return PyModule_Create(&module); }
