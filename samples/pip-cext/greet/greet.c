/* A C extension with one function: greet.hello(name) -> "Hello, <name>, from C". */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *hello(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) {
        return NULL;
    }
    return PyUnicode_FromFormat("Hello, %s, from C", name);
}

static PyMethodDef methods[] = {
    {"hello", hello, METH_VARARGS, "Greet someone from C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "greet", NULL, -1, methods};

PyMODINIT_FUNC PyInit_greet(void) { return PyModule_Create(&module); }
