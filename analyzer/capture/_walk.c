/* The sequential walk over pcap / pcapng record lengths, compiled.
 *
 * Each record's offset depends on the previous record's length, so this one loop cannot be
 * vectorised; records.py runs the same loop in Python when this module was not built. Both
 * functions only find offsets: every check and every error message stays in records.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define PCAP_RECORD_HEADER_LEN 16
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_OPB 0x00000002u

static inline uint32_t load_u32(const unsigned char *p, int big)
{
    if (big)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static int get_out(PyObject *obj, Py_buffer *view, Py_ssize_t need)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->itemsize != 8 || view->len / 8 < need) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "output buffer must hold enough int64 values");
        return -1;
    }
    return 0;
}

/* pcap_offsets(data, big, out) -> (count, pos)
 * The offsets of the records whose 16-byte header lies in data (as records.py's Python
 * loop: a record may run past the end; the caller checks), and where the walk stopped. */
static PyObject *pcap_offsets(PyObject *self, PyObject *args)
{
    Py_buffer data, out;
    int big;
    PyObject *out_obj;
    if (!PyArg_ParseTuple(args, "y*pO", &data, &big, &out_obj))
        return NULL;
    Py_ssize_t n = data.len;
    if (get_out(out_obj, &out, n / PCAP_RECORD_HEADER_LEN + 1) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    const unsigned char *buf = (const unsigned char *)data.buf;
    int64_t *offs = (int64_t *)out.buf;
    int64_t pos = 0, end = (int64_t)n - PCAP_RECORD_HEADER_LEN;
    Py_ssize_t count = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos <= end) {
        offs[count++] = pos;
        pos += PCAP_RECORD_HEADER_LEN + (int64_t)load_u32(buf + pos + 8, big);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&data);
    return Py_BuildValue("nL", count, (long long)pos);
}

/* pcapng_packets(data, pos, big, max_block, out_offs, out_types) -> (count, pos)
 * From pos, the offsets and types of consecutive complete packet blocks (enhanced, simple,
 * obsolete) whose lengths are plausible; stops at the first other block, implausible
 * length or incomplete block and leaves it to the caller. */
static PyObject *pcapng_packets(PyObject *self, PyObject *args)
{
    Py_buffer data, offs_view, types_view;
    Py_ssize_t pos_in;
    int big;
    long long max_block;
    PyObject *offs_obj, *types_obj;
    if (!PyArg_ParseTuple(args, "y*npLOO", &data, &pos_in, &big, &max_block, &offs_obj,
                          &types_obj))
        return NULL;
    Py_ssize_t n = data.len, cap = n / 12 + 1;
    if (get_out(offs_obj, &offs_view, cap) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (get_out(types_obj, &types_view, cap) < 0) {
        PyBuffer_Release(&offs_view);
        PyBuffer_Release(&data);
        return NULL;
    }
    const unsigned char *buf = (const unsigned char *)data.buf;
    int64_t *offs = (int64_t *)offs_view.buf, *types = (int64_t *)types_view.buf;
    int64_t pos = pos_in < 0 ? 0 : pos_in;
    Py_ssize_t count = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos + 12 <= (int64_t)n) {
        uint32_t btype = load_u32(buf + pos, big), blen = load_u32(buf + pos + 4, big);
        uint32_t min_len = btype == PCAPNG_SPB ? 16 : 32;
        if (btype != PCAPNG_EPB && btype != PCAPNG_SPB && btype != PCAPNG_OPB)
            break;
        if (blen < min_len || blen % 4 || (long long)blen > max_block
            || pos + (int64_t)blen > (int64_t)n)
            break;
        offs[count] = pos;
        types[count++] = btype;
        pos += blen;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&types_view);
    PyBuffer_Release(&offs_view);
    PyBuffer_Release(&data);
    return Py_BuildValue("nL", count, (long long)pos);
}

static PyMethodDef methods[] = {
    {"pcap_offsets", pcap_offsets, METH_VARARGS, "Offsets of the pcap records in a chunk."},
    {"pcapng_packets", pcapng_packets, METH_VARARGS,
     "Offsets and types of consecutive pcapng packet blocks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_walk", "Compiled walk over pcap/pcapng record lengths.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
