/* The per-record loops of the reader, compiled.
 *
 * pcap_offsets, pcapng_packets: the sequential walk over pcap / pcapng record lengths (each
 * record's offset depends on the previous record's length, so this loop cannot be
 * vectorised); records.py runs the same loop in Python when this module was not built.
 * Both only find offsets: every check and every error message stays in records.py.
 *
 * decode_udp: link layer -> IPv4/IPv6 -> UDP of every record of a batch, the columns
 * ipudp.decode_batch makes with numpy (which stays the fallback and the reference: the
 * tests compare the two column by column). dissect_heads: the per-datagram header fields
 * of dissect.dissect. Both read only inside the buffers they are given (each record's
 * offset is checked against the buffer before anything is read; every header window lies
 * within the record's offset plus PAD_BYTES) and run without the GIL.
 *
 * flow_assign, flow_rehash, flow_reverse: the reader's flow map (dense ids of flow keys,
 * and each flow's reverse direction), the compiled form of reader._FlowIndex, which stays
 * the fallback; tests/capture/test_flows.py compares the two.
 *
 * rtp_gather, rtp_clock_fit, rtp_stats: building RTP streams (streams/build.py, clock.py,
 * rtpstats.py): the gathers of their columns, the clock-rate fit and TShark's statistics,
 * one pass per stream; the numpy code they replace stays the fallback and the reference
 * (tests/streams/test_rtpstats.py compares them).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>

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

typedef struct {
    Py_buffer v;
    int held;
} view_t;

static int get_view(PyObject *obj, view_t *out, Py_ssize_t itemsize, Py_ssize_t count,
                    int writable, const char *what)
{
    if (PyObject_GetBuffer(obj, &out->v, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS
                           | PyBUF_FORMAT) < 0)
        return -1;
    out->held = 1;
    if (out->v.itemsize != itemsize || out->v.len < count * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: needs %zd contiguous items of %zd bytes", what,
                     count, itemsize);
        return -1;
    }
    return 0;
}

static void release_views(view_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i].held)
            PyBuffer_Release(&v[i].v);
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

/* pcap_fields(buf, offs, big, nanos, ts_ns, caplen, origlen) -> None
 * The fields of the 16-byte record headers at offs (records.py's numpy gather, compiled):
 * time in ns, captured and original lengths, as int64. Raises ValueError when a header
 * does not lie in buf. */
static PyObject *pcap_fields(PyObject *self, PyObject *args)
{
    Py_buffer data;
    int big, nanos;
    PyObject *offs_obj, *out_obj[3];
    if (!PyArg_ParseTuple(args, "y*OppOOO", &data, &offs_obj, &big, &nanos, &out_obj[0],
                          &out_obj[1], &out_obj[2]))
        return NULL;
    enum { V_OFFS, V_O0, V_COUNT = V_O0 + 3 };
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    if (get_view(offs_obj, &v[V_OFFS], 8, 0, 0, "offsets") < 0)
        goto done;
    Py_ssize_t n = v[V_OFFS].v.len / 8;
    for (int k = 0; k < 3; k++)
        if (get_view(out_obj[k], &v[V_O0 + k], 8, n, 1, "output") < 0)
            goto done;
    const unsigned char *buf = (const unsigned char *)data.buf;
    const int64_t *o = (const int64_t *)v[V_OFFS].v.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (o[i] < 0 || o[i] > (int64_t)data.len - PCAP_RECORD_HEADER_LEN) {
            PyErr_SetString(PyExc_ValueError, "record header outside the buffer");
            goto done;
        }
    int64_t *ts = (int64_t *)v[V_O0].v.buf, *cap = (int64_t *)v[V_O0 + 1].v.buf;
    int64_t *orig = (int64_t *)v[V_O0 + 2].v.buf;
    const int64_t scale = nanos ? 1 : 1000;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *h = buf + o[i];
        ts[i] = (int64_t)load_u32(h, big) * 1000000000 + (int64_t)load_u32(h + 4, big) * scale;
        cap[i] = load_u32(h + 8, big);
        orig[i] = load_u32(h + 12, big);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(v, V_COUNT);
    PyBuffer_Release(&data);
    return result;
}

/* pcapng_fields(buf, offs, types, big, blen, iface, ts_raw, caplen, origlen, data_off)
 * The fixed fields of the packet blocks at offs (enhanced, obsolete, simple), as
 * records.py's numpy gathers read them, into int64 buffers (ts_raw: the 64-bit tick count,
 * to be viewed as uint64). Raises ValueError when a block's fixed fields do not lie in buf. */
static PyObject *pcapng_fields(PyObject *self, PyObject *args)
{
    Py_buffer data;
    int big;
    PyObject *offs_obj, *types_obj, *out_obj[6];
    if (!PyArg_ParseTuple(args, "y*OOpOOOOOO", &data, &offs_obj, &types_obj, &big,
                          &out_obj[0], &out_obj[1], &out_obj[2], &out_obj[3], &out_obj[4],
                          &out_obj[5]))
        return NULL;
    enum { V_OFFS, V_TYPES, V_O0, V_COUNT = V_O0 + 6 };
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    if (get_view(offs_obj, &v[V_OFFS], 8, 0, 0, "offsets") < 0)
        goto done;
    Py_ssize_t n = v[V_OFFS].v.len / 8;
    if (get_view(types_obj, &v[V_TYPES], 8, n, 0, "types") < 0)
        goto done;
    for (int k = 0; k < 6; k++)
        if (get_view(out_obj[k], &v[V_O0 + k], 8, n, 1, "output") < 0)
            goto done;
    const unsigned char *buf = (const unsigned char *)data.buf;
    const int64_t *o = (const int64_t *)v[V_OFFS].v.buf, *t = (const int64_t *)v[V_TYPES].v.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (o[i] < 0 || o[i] > (int64_t)data.len - 28) {
            PyErr_SetString(PyExc_ValueError, "packet block outside the buffer");
            goto done;
        }
    int64_t *blen = (int64_t *)v[V_O0].v.buf, *iface = (int64_t *)v[V_O0 + 1].v.buf;
    uint64_t *ts = (uint64_t *)v[V_O0 + 2].v.buf;
    int64_t *cap = (int64_t *)v[V_O0 + 3].v.buf, *orig = (int64_t *)v[V_O0 + 4].v.buf;
    int64_t *doff = (int64_t *)v[V_O0 + 5].v.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *b = buf + o[i];
        const int spb = t[i] == PCAPNG_SPB;
        blen[i] = load_u32(b + 4, big);
        if (t[i] == PCAPNG_EPB)
            iface[i] = load_u32(b + 8, big);
        else if (t[i] == PCAPNG_OPB)
            iface[i] = big ? (b[8] << 8) | b[9] : (b[9] << 8) | b[8];
        else
            iface[i] = 0;
        ts[i] = ((uint64_t)load_u32(b + 12, big) << 32) | load_u32(b + 16, big);
        cap[i] = spb ? 0 : load_u32(b + 20, big);
        orig[i] = load_u32(b + (spb ? 8 : 24), big);
        doff[i] = o[i] + (spb ? 12 : 28);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(v, V_COUNT);
    PyBuffer_Release(&data);
    return result;
}

/* ---- decode_udp ---------------------------------------------------------------------- */

#define PAD_BYTES 256      /* records.PAD_BYTES: zeros after every chunk */
#define IP_WINDOW 128      /* ipudp.IP_WINDOW */
#define HEAD_BYTES 40      /* ipudp.HEAD_BYTES */
#define UDP_HEADER_LEN 8
#define STUN_COOKIE 0x2112A442u

/* the counters of ipudp.DecodeCounters, in this order */
enum { C_NON_IP, C_IPV4, C_IPV6, C_TCP, C_ICMP, C_OTHER_IP, C_FRAGMENTS, C_SHORT, C_COUNT };

/* bits of the per-row mark (what ipudp's Python loops over kept payloads and hints look at) */
#define M_KEEP 1      /* RTCP, SIP/MEGACO first four bytes, or a TURN Send/Data indication */
#define M_KEEP_SURE 2 /* RTCP or a Send/Data indication: kept without the SIP prefix check */
#define M_DNS 4       /* a DNS response */
#define M_STUN 8      /* a STUN message with attributes (not an indication) */

static inline int rd16(const unsigned char *p) { return (p[0] << 8) | p[1]; }
static inline uint32_t rd32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* linklayer.network_offsets for one record: the IP version (4, 6; 0 when no IP header
 * follows) and, in *net_off, where the IP header starts. l holds LINK_WINDOW (32) bytes. */
static int link_layer(const unsigned char *l, int32_t lt, int64_t caplen, int64_t *net_off)
{
    int64_t off = 0;
    long proto = 0;
    switch (lt) {
    case 1: { /* Ethernet, up to two VLAN tags */
        long et = rd16(l + 12);
        off = 14;
        for (int k = 0; k < 2; k++) {
            if (et != 0x8100 && et != 0x88A8 && et != 0x9100)
                break;
            et = rd16(l + off + 2);
            off += 4;
        }
        proto = et;
        break;
    }
    case 113: /* Linux SLL */
        off = 16;
        proto = rd16(l + 14);
        break;
    case 276: /* Linux SLL2 */
        off = 20;
        proto = rd16(l);
        break;
    case 0:
    case 108: { /* BSD / OpenBSD loopback: the family in either byte order */
        uint32_t le = (uint32_t)l[0] | ((uint32_t)l[1] << 8) | ((uint32_t)l[2] << 16)
            | ((uint32_t)l[3] << 24);
        uint32_t fam = le < 256 ? le : rd32(l);
        off = 4;
        proto = fam == 2 ? 0x0800 : (fam == 24 || fam == 28 || fam == 30) ? 0x86DD : 0;
        break;
    }
    case 101:
    case 12:
    case 14: /* raw IP: the version nibble */
        proto = (l[0] >> 4) == 4 ? 0x0800 : (l[0] >> 4) == 6 ? 0x86DD : 0;
        break;
    case 228:
        proto = 0x0800;
        break;
    case 229:
        proto = 0x86DD;
        break;
    default:
        break;
    }
    *net_off = off;
    if (caplen <= off)
        return 0;
    return proto == 0x0800 ? 4 : proto == 0x86DD ? 6 : 0;
}

/* decode_udp(buf, off, caplen, linktype, origlen, ts_ns, first_frame, sip_prefixes, udp_out,
 *            rare_out) -> (udp rows, rare rows, counters) or None
 *
 * udp_out = (rec i8, frame i8, ts_ns i8, src u1[n*16], dst u1[n*16], sport i4, dport i4,
 *            ipver i1, udp_len i4, cap_len i4, wire_len i4, head u1[n*40], pay_start i8,
 *            mark u1), each with room for every record; rare_out = (rec i8, ip_start i8, l4 i8,
 * proto i4) for the TCP and ICMP packets (decoded further in Python). None when a record's offset
 * is outside the buffer (the caller then decodes the batch with numpy). */
enum { U_REC, U_FRAME, U_TS, U_SRC, U_DST, U_SPORT, U_DPORT, U_IPVER, U_ULEN, U_CAPLEN,
       U_WIRE, U_HEAD, U_PAY, U_MARK, U_COUNT };
enum { R_REC, R_IP, R_L4, R_PROTO, R_COUNT };

static PyObject *decode_udp(PyObject *self, PyObject *args)
{
    PyObject *bufo, *offo, *capo, *lto, *origo, *tso, *udpo, *rareo;
    long long first_frame;
    Py_buffer sipv;
    if (!PyArg_ParseTuple(args, "OOOOOOLy*O!O!", &bufo, &offo, &capo, &lto, &origo, &tso,
                          &first_frame, &sipv, &PyTuple_Type, &udpo, &PyTuple_Type, &rareo))
        return NULL;
    if (PyTuple_GET_SIZE(udpo) != U_COUNT || PyTuple_GET_SIZE(rareo) != R_COUNT
        || sipv.len % 4) {
        PyBuffer_Release(&sipv);
        PyErr_SetString(PyExc_ValueError, "decode_udp: wrong number of output buffers");
        return NULL;
    }
    enum { V_BUF, V_OFF, V_CAP, V_LT, V_ORIG, V_TS, V_U0, V_R0 = V_U0 + U_COUNT,
           V_COUNT = V_R0 + R_COUNT };
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    Py_ssize_t n = 0;
    if (get_view(bufo, &v[V_BUF], 1, 0, 0, "buf") < 0
        || get_view(offo, &v[V_OFF], 8, 0, 0, "off") < 0)
        goto done;
    n = v[V_OFF].v.len / 8;
    static const Py_ssize_t usize[U_COUNT] = {8, 8, 8, 16, 16, 4, 4, 1, 4, 4, 4, HEAD_BYTES,
                                              8, 1};
    static const Py_ssize_t rsize[R_COUNT] = {8, 8, 8, 4};
    if (get_view(capo, &v[V_CAP], 8, n, 0, "caplen") < 0
        || get_view(lto, &v[V_LT], 4, n, 0, "linktype") < 0
        || get_view(origo, &v[V_ORIG], 8, n, 0, "origlen") < 0
        || get_view(tso, &v[V_TS], 8, n, 0, "ts_ns") < 0)
        goto done;
    for (int k = 0; k < U_COUNT; k++) {
        Py_ssize_t item = usize[k] > 8 ? 1 : usize[k];
        if (get_view(PyTuple_GET_ITEM(udpo, k), &v[V_U0 + k], item, n * usize[k] / item, 1,
                     "udp output") < 0)
            goto done;
    }
    for (int k = 0; k < R_COUNT; k++)
        if (get_view(PyTuple_GET_ITEM(rareo, k), &v[V_R0 + k], rsize[k], n, 1,
                     "rare output") < 0)
            goto done;

    const unsigned char *buf = (const unsigned char *)v[V_BUF].v.buf;
    const int64_t buflen = (int64_t)v[V_BUF].v.len;
    const int64_t *off = (const int64_t *)v[V_OFF].v.buf;
    const int64_t *caplen = (const int64_t *)v[V_CAP].v.buf;
    const int32_t *lt = (const int32_t *)v[V_LT].v.buf;
    const int64_t *orig = (const int64_t *)v[V_ORIG].v.buf;
    const int64_t *ts = (const int64_t *)v[V_TS].v.buf;
    int64_t *o_rec = (int64_t *)v[V_U0 + U_REC].v.buf;
    int64_t *o_frame = (int64_t *)v[V_U0 + U_FRAME].v.buf;
    int64_t *o_ts = (int64_t *)v[V_U0 + U_TS].v.buf;
    unsigned char *o_src = (unsigned char *)v[V_U0 + U_SRC].v.buf;
    unsigned char *o_dst = (unsigned char *)v[V_U0 + U_DST].v.buf;
    int32_t *o_sport = (int32_t *)v[V_U0 + U_SPORT].v.buf;
    int32_t *o_dport = (int32_t *)v[V_U0 + U_DPORT].v.buf;
    int8_t *o_ipver = (int8_t *)v[V_U0 + U_IPVER].v.buf;
    int32_t *o_ulen = (int32_t *)v[V_U0 + U_ULEN].v.buf;
    int32_t *o_caplen = (int32_t *)v[V_U0 + U_CAPLEN].v.buf;
    int32_t *o_wire = (int32_t *)v[V_U0 + U_WIRE].v.buf;
    unsigned char *o_head = (unsigned char *)v[V_U0 + U_HEAD].v.buf;
    int64_t *o_pay = (int64_t *)v[V_U0 + U_PAY].v.buf;
    unsigned char *o_mark = (unsigned char *)v[V_U0 + U_MARK].v.buf;
    int64_t *r_rec = (int64_t *)v[V_R0 + R_REC].v.buf;
    int64_t *r_ip = (int64_t *)v[V_R0 + R_IP].v.buf;
    int64_t *r_l4 = (int64_t *)v[V_R0 + R_L4].v.buf;
    int32_t *r_proto = (int32_t *)v[V_R0 + R_PROTO].v.buf;
    const unsigned char *sip = (const unsigned char *)sipv.buf;
    const Py_ssize_t n_sip = sipv.len / 4;

    /* Every window read below (link 32 bytes at off, IP 128 bytes at off + net_off with
     * net_off <= 22, payload head 40 bytes at most 150 bytes past off) lies within off +
     * PAD_BYTES: a record whose offset leaves less than that is not decoded here. */
    for (Py_ssize_t i = 0; i < n; i++)
        if (off[i] < 0 || off[i] > buflen - PAD_BYTES) {
            result = Py_NewRef(Py_None);
            goto done;
        }

    Py_ssize_t m = 0, r = 0;
    long long cnt[C_COUNT] = {0};
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t net_off;
        const unsigned char *rec = buf + off[i];
        int ipver = link_layer(rec, lt[i], caplen[i], &net_off);
        if (!ipver) {
            cnt[C_NON_IP]++;
            continue;
        }
        const unsigned char *ip = rec + net_off;
        const int64_t avail = caplen[i] - net_off;
        const int ver = ip[0] >> 4;
        int64_t l4;
        int proto, frag = 0;
        if (ver == 4) {
            cnt[C_IPV4]++;
            int64_t ihl = (int64_t)(ip[0] & 0x0F) * 4;
            int ff = rd16(ip + 6);
            frag = (ff & 0x2000) || (ff & 0x1FFF);
            if (ihl < 20 || avail < ihl) {
                cnt[C_SHORT]++;
                continue;
            }
            proto = ip[9];
            l4 = ihl;
        } else if (ver == 6) {
            cnt[C_IPV6]++;
            int nh = ip[6];
            int64_t p = 40;
            for (int k = 0; k < 4 && p + 8 <= IP_WINDOW; k++) {
                if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
                    int64_t hlen = nh == 51 ? ((int64_t)ip[p + 1] + 2) * 4
                                            : ((int64_t)ip[p + 1] + 1) * 8;
                    nh = ip[p];
                    p += hlen;
                } else if (nh == 44) {
                    int fo = rd16(ip + p + 2);
                    frag |= (fo & 0xFFF8) != 0 || (fo & 1) != 0;
                    nh = ip[p];
                    p += 8;
                } else {
                    break;
                }
            }
            if (avail < p) {
                cnt[C_SHORT]++;
                continue;
            }
            proto = nh;
            l4 = p;
        } else { /* neither 4 nor 6: malformed */
            cnt[C_SHORT]++;
            continue;
        }
        if (frag) {
            cnt[C_FRAGMENTS]++;
            continue;
        }
        if (proto == 6 || (ver == 4 && proto == 1) || (ver == 6 && proto == 58)) {
            cnt[proto == 6 ? C_TCP : C_ICMP]++;
            r_rec[r] = i;
            r_ip[r] = off[i] + net_off;
            r_l4[r] = l4;
            r_proto[r++] = proto;
            continue;
        }
        if (proto != 17) {
            if (proto != 1 && proto != 58)
                cnt[C_OTHER_IP]++;
            continue;
        }
        if (l4 + UDP_HEADER_LEN > (avail < IP_WINDOW ? avail : IP_WINDOW)) {
            cnt[C_SHORT]++;
            continue;
        }
        /* a complete UDP header */
        const unsigned char *u = ip + l4;
        int64_t ulen = (int64_t)rd16(u + 4) - UDP_HEADER_LEN;
        int64_t cap_pay = avail - l4 - UDP_HEADER_LEN;
        if (cap_pay < 0)
            cap_pay = 0;
        if (ulen < 0) /* a UDP length below 8 is malformed: use what was captured */
            ulen = cap_pay;
        int64_t cap_len = cap_pay < ulen ? cap_pay : ulen;
        o_rec[m] = i;
        o_frame[m] = first_frame + i;
        o_ts[m] = ts[i];
        o_sport[m] = rd16(u);
        o_dport[m] = rd16(u + 2);
        o_ipver[m] = (int8_t)ver;
        o_ulen[m] = (int32_t)ulen;
        o_caplen[m] = (int32_t)cap_len;
        o_wire[m] = (int32_t)orig[i];
        unsigned char *s = o_src + 16 * m, *d = o_dst + 16 * m;
        if (ver == 4) {
            static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
            memcpy(s, mapped, 12);
            memcpy(d, mapped, 12);
            memcpy(s + 12, ip + 12, 4);
            memcpy(d + 12, ip + 16, 4);
        } else {
            memcpy(s, ip + 8, 16);
            memcpy(d, ip + 24, 16);
        }
        unsigned char *h = o_head + (Py_ssize_t)HEAD_BYTES * m;
        memcpy(h, u + UDP_HEADER_LEN, HEAD_BYTES);
        if (cap_len < HEAD_BYTES) /* what lies beyond the captured payload is not its */
            memset(h + cap_len, 0, HEAD_BYTES - cap_len);
        o_pay[m] = off[i] + net_off + l4 + UDP_HEADER_LEN;
        /* what ipudp's kept-payload and hint loops look at */
        int mark = 0;
        const int b0 = h[0], b1 = h[1];
        const int cookie = rd32(h + 4) == STUN_COOKIE;
        int sure = ((b0 & 0xC0) == 0x80 && b1 >= 200 && b1 <= 204)
            || (b0 == 0 && (b1 == 0x16 || b1 == 0x17) && cookie);
        if (sure)
            mark |= M_KEEP | M_KEEP_SURE;
        else if ((b0 >= 'A' && b0 <= 'U') || b0 == '!')
            for (Py_ssize_t k = 0; k < n_sip; k++)
                if (memcmp(h, sip + 4 * k, 4) == 0) {
                    mark |= M_KEEP;
                    break;
                }
        if (o_sport[m] == 53 && (h[2] & 0x80) && cap_len >= 12)
            mark |= M_DNS;
        if (b0 <= 1 && cookie && cap_len > 20 && b1 != 0x16 && b1 != 0x17)
            mark |= M_STUN;
        o_mark[m++] = (unsigned char)mark;
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("nn(LLLLLLLL)", m, r, cnt[0], cnt[1], cnt[2], cnt[3], cnt[4],
                           cnt[5], cnt[6], cnt[7]);
done:
    release_views(v, V_COUNT);
    PyBuffer_Release(&sipv);
    return result;
}

/* ---- dissect_heads --------------------------------------------------------------------- */

#define F_STUN 1
#define F_DTLS 2
#define F_CHANNEL 4
#define F_RTCP 8
#define F_RTP 16
#define F_TELEGRAM_HELLO 32
#define F_MARKER 64
#define F_TEXT 128
#define TELEGRAM_HELLO_LEN 40
#define TAG_MIX 0x9E3779B97F4A7C15ull

/* headers.is_rtcp at byte o of h */
static inline int rtcp_at(const unsigned char *h, int o, int64_t len)
{
    int b1 = h[o + 1];
    int pt_ok = b1 >= 200 && b1 <= 207; /* SR..APP, RTPFB, PSFB, XR */
    return (h[o] >> 6) == 2 && pt_ok && ((int64_t)rd16(h + o + 2) + 1) * 4 <= len - o;
}

/* dissect_heads(head, length, encap, text, out) -> None
 * head: n rows of HEAD_BYTES; length i4; encap u1; text u1 (1: a SIP/MEGACO row);
 * out = (flags u1, payload_type u1, seq u2, rtp_ts u4, ssrc u4, stun_type u2, tag u4). */
enum { D_FLAGS, D_PT, D_SEQ, D_TS, D_SSRC, D_STUN, D_TAG, D_COUNT };

static PyObject *dissect_heads(PyObject *self, PyObject *args)
{
    PyObject *heado, *leno, *encapo, *texto, *outo;
    if (!PyArg_ParseTuple(args, "OOOOO!", &heado, &leno, &encapo, &texto, &PyTuple_Type,
                          &outo))
        return NULL;
    if (PyTuple_GET_SIZE(outo) != D_COUNT) {
        PyErr_SetString(PyExc_ValueError, "dissect_heads: wrong number of output buffers");
        return NULL;
    }
    enum { V_HEAD, V_LEN, V_ENCAP, V_TEXT, V_O0, V_COUNT = V_O0 + D_COUNT };
    static const Py_ssize_t osize[D_COUNT] = {1, 1, 2, 4, 4, 2, 4};
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    if (get_view(leno, &v[V_LEN], 4, 0, 0, "length") < 0)
        goto done;
    Py_ssize_t n = v[V_LEN].v.len / 4;
    if (get_view(heado, &v[V_HEAD], 1, n * HEAD_BYTES, 0, "head") < 0
        || get_view(encapo, &v[V_ENCAP], 1, n, 0, "encap") < 0
        || get_view(texto, &v[V_TEXT], 1, n, 0, "text") < 0)
        goto done;
    for (int k = 0; k < D_COUNT; k++)
        if (get_view(PyTuple_GET_ITEM(outo, k), &v[V_O0 + k], osize[k], n, 1, "output") < 0)
            goto done;
    const unsigned char *head = (const unsigned char *)v[V_HEAD].v.buf;
    const int32_t *length = (const int32_t *)v[V_LEN].v.buf;
    const unsigned char *encap = (const unsigned char *)v[V_ENCAP].v.buf;
    const unsigned char *text = (const unsigned char *)v[V_TEXT].v.buf;
    unsigned char *o_flags = (unsigned char *)v[V_O0 + D_FLAGS].v.buf;
    unsigned char *o_pt = (unsigned char *)v[V_O0 + D_PT].v.buf;
    uint16_t *o_seq = (uint16_t *)v[V_O0 + D_SEQ].v.buf;
    uint32_t *o_ts = (uint32_t *)v[V_O0 + D_TS].v.buf;
    uint32_t *o_ssrc = (uint32_t *)v[V_O0 + D_SSRC].v.buf;
    uint16_t *o_stun = (uint16_t *)v[V_O0 + D_STUN].v.buf;
    uint32_t *o_tag = (uint32_t *)v[V_O0 + D_TAG].v.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *h = head + (Py_ssize_t)HEAD_BYTES * i;
        const int64_t len = length[i];
        const int plain = encap[i] == 0;
        const int b0 = h[0];
        const int64_t mlen = rd16(h + 2);
        const int stun = plain && (b0 & 0xC0) == 0 && rd32(h + 4) == STUN_COOKIE
            && mlen % 4 == 0 && mlen + 20 <= len;
        const int ver = rd16(h + 1);
        const int dtls = !stun && (b0 == 20 || b0 == 21 || b0 == 22 || b0 == 23 || b0 == 25)
            && (ver == 0xFEFF || ver == 0xFEFD) && len >= 13;
        const int ch = rd16(h);
        const int64_t room4 = len - 4, dlen = mlen;
        const int chan = !stun && plain && ch >= 0x4000 && ch <= 0x7FFF && dlen <= room4
            && dlen + 3 >= room4 && dlen >= 12;
        const int o = chan ? 4 : 0;
        const int rtcp = !stun && rtcp_at(h, o, len);
        /* headers._rtp_at */
        const int r0 = h[o], r1 = h[o + 1];
        const int64_t base = 12 + 4 * (int64_t)(r0 & 0x0F), room = len - o;
        int64_t hdr = base;
        if (r0 & 0x10) {
            int64_t pos = o + base + 2;
            hdr = pos + 2 <= HEAD_BYTES ? base + 4 + 4 * (int64_t)rd16(h + pos) : -1;
        }
        const int pt = r1 & 0x7F;
        const int rtp_ok = (r0 >> 6) == 2 && !(pt >= 72 && pt <= 76) && room >= base
            && (hdr < 0 || hdr <= room);
        int hello = 0;
        if (len == TELEGRAM_HELLO_LEN) {
            hello = 1;
            for (int k = 16; k < 32; k++)
                if (h[k] != (k == 28 ? 0xFE : 0xFF)) {
                    hello = 0;
                    break;
                }
        }
        const int txt = text[i] != 0;
        const int valid = rtp_ok && !stun && !dtls && !rtcp && !hello && !txt;
        o_flags[i] = (unsigned char)((stun ? F_STUN : 0) | (dtls ? F_DTLS : 0)
            | (chan ? F_CHANNEL : 0) | (rtcp ? F_RTCP : 0) | (valid ? F_RTP : 0)
            | (hello ? F_TELEGRAM_HELLO : 0) | (valid && (r1 & 0x80) ? F_MARKER : 0)
            | (txt ? F_TEXT : 0));
        o_pt[i] = (unsigned char)(valid ? pt : 0);
        o_seq[i] = (uint16_t)rd16(h + o + 2);
        o_ts[i] = rd32(h + o + 4);
        o_ssrc[i] = rd32(h + o + 8);
        o_stun[i] = (uint16_t)(stun ? ch : 0);
        uint64_t w0, w1;
        memcpy(&w0, h, 8); /* native order, as numpy's view(np.uint64) */
        memcpy(&w1, h + 8, 8);
        uint64_t t = w0 * TAG_MIX;
        t ^= w1;
        t *= TAG_MIX;
        o_tag[i] = (uint32_t)(t >> 32);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(v, V_COUNT);
    return result;
}

/* The flow map: dense flow ids for (src, dst, sport, dport, proto) keys, in order of first
 * appearance, across batches. Keys are rows of FLOW_KEY_BYTES in a byte array the caller
 * owns (reader.py's _FlowMap); an open-addressing table of int32 ids (-1 empty, a power of
 * two long, at most 3/4 full) finds them by a salted 64-bit hash, and every candidate is
 * confirmed byte for byte, so a hash collision never merges two flows. The salt is a
 * per-process secret (table.py), so a crafted capture cannot aim collisions at one slot. */
#define FLOW_KEY_BYTES 37

static inline uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t key_hash(const unsigned char *k, uint64_t salt)
{
    uint64_t h = salt, w;
    for (int i = 0; i < 4; i++) {
        memcpy(&w, k + 8 * i, 8);
        h = fmix64(h ^ w) + 0x9E3779B97F4A7C15ULL;
    }
    w = (uint64_t)k[32] | ((uint64_t)k[33] << 8) | ((uint64_t)k[34] << 16)
        | ((uint64_t)k[35] << 24) | ((uint64_t)k[36] << 32);
    return fmix64(h ^ w);
}

static inline void make_key(unsigned char *k, const unsigned char *src, const unsigned char *dst,
                            int32_t sport, int32_t dport, unsigned char proto)
{
    memcpy(k, src, 16);
    memcpy(k + 16, dst, 16);
    k[32] = (unsigned char)(sport >> 8);
    k[33] = (unsigned char)sport;
    k[34] = (unsigned char)(dport >> 8);
    k[35] = (unsigned char)dport;
    k[36] = proto;
}

/* The slot of key k: where its id is, or the empty slot where it would go. */
static inline Py_ssize_t find_slot(const unsigned char *k, const unsigned char *keys,
                                   const int32_t *slots, Py_ssize_t mask, uint64_t salt)
{
    Py_ssize_t i = (Py_ssize_t)(key_hash(k, salt) & (uint64_t)mask);
    for (;;) {
        int32_t id = slots[i];
        if (id < 0 || memcmp(keys + (Py_ssize_t)id * FLOW_KEY_BYTES, k, FLOW_KEY_BYTES) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int slot_table(PyObject *obj, view_t *v, Py_ssize_t *mask)
{
    if (get_view(obj, v, 4, 1, 1, "slots") < 0)
        return -1;
    Py_ssize_t m = v->v.len / 4;
    if (m & (m - 1)) {
        PyErr_SetString(PyExc_ValueError, "slots: length must be a power of two");
        return -1;
    }
    *mask = m - 1;
    return 0;
}

/* flow_assign(src, dst, sport, dport, proto, start, keys, n_keys, slots, salt, out)
 *   -> (next row, n_keys)
 * src, dst: n rows of 16 bytes; sport, dport i4; proto u1; keys: rows of FLOW_KEY_BYTES
 * (writable, capacity = its length / FLOW_KEY_BYTES); slots: i4, a power of two long; out:
 * i4 ids. Assigns rows start.. and stops early when the keys are full or one more flow
 * would make the table over 3/4 full: the caller grows them and calls again. */
static PyObject *flow_assign(PyObject *self, PyObject *args)
{
    PyObject *o[11];
    Py_ssize_t start, n_keys;
    unsigned long long salt;
    if (!PyArg_ParseTuple(args, "OOOOOnOnOKO", &o[0], &o[1], &o[2], &o[3], &o[4], &start,
                          &o[6], &n_keys, &o[8], &salt, &o[10]))
        return NULL;
    enum { V_SRC, V_DST, V_SPORT, V_DPORT, V_PROTO, V_KEYS, V_SLOTS, V_OUT, V_COUNT };
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    Py_ssize_t mask = 0;
    if (get_view(o[2], &v[V_SPORT], 4, 0, 0, "sport") < 0)
        goto done;
    Py_ssize_t n = v[V_SPORT].v.len / 4;
    if (get_view(o[0], &v[V_SRC], 1, n * 16, 0, "src") < 0
        || get_view(o[1], &v[V_DST], 1, n * 16, 0, "dst") < 0
        || get_view(o[3], &v[V_DPORT], 4, n, 0, "dport") < 0
        || get_view(o[4], &v[V_PROTO], 1, n, 0, "proto") < 0
        || get_view(o[6], &v[V_KEYS], 1, 0, 1, "keys") < 0
        || slot_table(o[8], &v[V_SLOTS], &mask) < 0
        || get_view(o[10], &v[V_OUT], 4, n, 1, "out") < 0)
        goto done;
    Py_ssize_t cap = v[V_KEYS].v.len / FLOW_KEY_BYTES;
    if (start < 0 || n_keys < 0 || n_keys > cap) {
        PyErr_SetString(PyExc_ValueError, "flow_assign: bad start or key count");
        goto done;
    }
    const unsigned char *src = v[V_SRC].v.buf, *dst = v[V_DST].v.buf;
    const int32_t *sport = v[V_SPORT].v.buf, *dport = v[V_DPORT].v.buf;
    const unsigned char *proto = v[V_PROTO].v.buf;
    unsigned char *keys = v[V_KEYS].v.buf;
    int32_t *slots = v[V_SLOTS].v.buf, *out = v[V_OUT].v.buf;
    Py_ssize_t limit = (mask + 1) / 4 * 3, r = start;
    Py_BEGIN_ALLOW_THREADS
    unsigned char k[FLOW_KEY_BYTES];
    for (; r < n; r++) {
        make_key(k, src + 16 * r, dst + 16 * r, sport[r], dport[r], proto[r]);
        Py_ssize_t i = find_slot(k, keys, slots, mask, salt);
        if (slots[i] < 0) {
            if (n_keys >= cap || n_keys + 1 > limit || n_keys >= INT32_MAX)
                break;
            memcpy(keys + n_keys * FLOW_KEY_BYTES, k, FLOW_KEY_BYTES);
            slots[i] = (int32_t)n_keys++;
        }
        out[r] = slots[i];
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("nn", r, n_keys);
done:
    release_views(v, V_COUNT);
    return result;
}

/* flow_rehash(keys, n_keys, slots, salt) -> None: put the ids of the first n_keys keys into
 * slots (all -1 on entry, a power of two over twice n_keys long). */
static PyObject *flow_rehash(PyObject *self, PyObject *args)
{
    PyObject *keyso, *slotso;
    Py_ssize_t n_keys;
    unsigned long long salt;
    if (!PyArg_ParseTuple(args, "OnOK", &keyso, &n_keys, &slotso, &salt))
        return NULL;
    view_t v[2];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    Py_ssize_t mask = 0;
    if (get_view(keyso, &v[0], 1, n_keys * FLOW_KEY_BYTES, 0, "keys") < 0
        || slot_table(slotso, &v[1], &mask) < 0)
        goto done;
    if (n_keys < 0 || n_keys > (mask + 1) / 4 * 3) {
        PyErr_SetString(PyExc_ValueError, "flow_rehash: table too small");
        goto done;
    }
    const unsigned char *keys = v[0].v.buf;
    int32_t *slots = v[1].v.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t j = 0; j < n_keys; j++) {
        const unsigned char *k = keys + j * FLOW_KEY_BYTES;
        Py_ssize_t i = (Py_ssize_t)(key_hash(k, salt) & (uint64_t)mask);
        while (slots[i] >= 0)
            i = (i + 1) & mask;
        slots[i] = (int32_t)j;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(v, 2);
    return result;
}

/* flow_reverse(keys, n_keys, slots, salt, out) -> None: out[j] = id of the flow in the
 * opposite direction of flow j (source and destination swapped), or -1. */
static PyObject *flow_reverse(PyObject *self, PyObject *args)
{
    PyObject *keyso, *slotso, *outo;
    Py_ssize_t n_keys;
    unsigned long long salt;
    if (!PyArg_ParseTuple(args, "OnOKO", &keyso, &n_keys, &slotso, &salt, &outo))
        return NULL;
    view_t v[3];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    Py_ssize_t mask = 0;
    if (n_keys < 0) {
        PyErr_SetString(PyExc_ValueError, "flow_reverse: bad key count");
        return NULL;
    }
    if (get_view(keyso, &v[0], 1, n_keys * FLOW_KEY_BYTES, 0, "keys") < 0
        || slot_table(slotso, &v[1], &mask) < 0
        || get_view(outo, &v[2], 4, n_keys, 1, "out") < 0)
        goto done;
    const unsigned char *keys = v[0].v.buf;
    const int32_t *slots = v[1].v.buf;
    int32_t *out = v[2].v.buf;
    Py_BEGIN_ALLOW_THREADS
    unsigned char k[FLOW_KEY_BYTES];
    for (Py_ssize_t j = 0; j < n_keys; j++) {
        const unsigned char *f = keys + j * FLOW_KEY_BYTES;
        memcpy(k, f + 16, 16);
        memcpy(k + 16, f, 16);
        k[32] = f[34];
        k[33] = f[35];
        k[34] = f[32];
        k[35] = f[33];
        k[36] = f[36];
        out[j] = slots[find_slot(k, keys, slots, mask, salt)];
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release_views(v, 3);
    return result;
}

/* rtp_stats(arrival f8, seq16 u2, ts32 u4, marker u1, pt i2, clock i4, size i4, starts i8,
 *           seq_ext i4 out, ts_ext i8 out, stream_out tuple) -> None
 *
 * TShark 4.0.17's per-stream RTP statistics over streams stored back to back (streams.
 * rtpstats.derive + rtp_stats, which stay the fallback and the reference; the tests compare
 * the two): extended sequence numbers and timestamps, the RFC 3550 jitter with TShark's
 * choice of packets, its running means, and the counts of duplicates, late packets and
 * sequence errors. One pass per stream, in arrival order, so the running values are
 * evaluated exactly as TShark does (the numpy path evaluates them in closed form).
 *
 * stream_out = (lost i8, duplicates i8, late i8, seq_err i8, min_d f8, mean_d f8, max_d f8,
 *               min_j f8, mean_j f8, max_j f8, bytes i8, has_clock u1, problems u1). */
enum { S_LOST, S_DUP, S_LATE, S_SEQERR, S_MIND, S_MEAND, S_MAXD, S_MINJ, S_MEANJ, S_MAXJ,
       S_BYTES, S_CLOCK, S_PROBLEMS, S_COUNT };

static int cmp_i64_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static inline int64_t wrap_step(int64_t cur, int64_t prev, int64_t mod)
{
    int64_t half = mod / 2, d = (cur - prev + half) % mod;
    if (d < 0)
        d += mod;
    return d - half;
}

/* Flags the packets of one stream whose extended sequence number came before (all but the
 * first arrival of each number); returns -1 when out of memory. */
static int mark_duplicates(const int64_t *seq, Py_ssize_t n, unsigned char *dup)
{
    int strictly_up = 1;
    for (Py_ssize_t i = 1; i < n && strictly_up; i++)
        strictly_up = seq[i] > seq[i - 1];
    memset(dup, 0, (size_t)n);
    if (strictly_up)
        return 0;
    int64_t *pairs = malloc((size_t)n * 2 * sizeof(int64_t));
    if (pairs == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        pairs[2 * i] = seq[i];
        pairs[2 * i + 1] = i;
    }
    qsort(pairs, (size_t)n, 2 * sizeof(int64_t), cmp_i64_pair);
    for (Py_ssize_t i = 1; i < n; i++)
        if (pairs[2 * i] == pairs[2 * i - 2])
            dup[pairs[2 * i + 1]] = 1;
    free(pairs);
    return 0;
}

/* Whether the stream starts of concatenated streams rise from 0 within n packets (sets a
 * ValueError naming ``what`` if not); *longest gets the longest stream's length (at least
 * 1). */
static int check_starts(const int64_t *starts, Py_ssize_t m, Py_ssize_t n, const char *what,
                        Py_ssize_t *longest)
{
    *longest = 1;
    for (Py_ssize_t k = 0; k < m; k++) {
        if (starts[k] < 0 || starts[k] >= n || (k && starts[k] <= starts[k - 1])
            || (k == 0 && starts[0] != 0)) {
            PyErr_Format(PyExc_ValueError, "%s: starts must rise from 0 within n", what);
            return -1;
        }
        Py_ssize_t len = (k + 1 < m ? starts[k + 1] : n) - starts[k];
        *longest = len > *longest ? len : *longest;
    }
    if (n && m == 0) {
        PyErr_Format(PyExc_ValueError, "%s: packets without streams", what);
        return -1;
    }
    return 0;
}

static PyObject *rtp_stats(PyObject *self, PyObject *args)
{
    PyObject *o[10], *outo;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOO!", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                          &o[6], &o[7], &o[8], &o[9], &PyTuple_Type, &outo))
        return NULL;
    if (PyTuple_GET_SIZE(outo) != S_COUNT) {
        PyErr_SetString(PyExc_ValueError, "rtp_stats: wrong number of output buffers");
        return NULL;
    }
    enum { V_T, V_SEQ, V_TS, V_MARK, V_PT, V_CLK, V_SIZE, V_STARTS, V_SEQX, V_TSX, V_O0,
           V_COUNT = V_O0 + S_COUNT };
    static const Py_ssize_t osize[S_COUNT] = {8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 1, 1};
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    int64_t *seq = NULL;
    unsigned char *dup = NULL;
    if (get_view(o[0], &v[V_T], 8, 0, 0, "arrival") < 0)
        goto done;
    Py_ssize_t n = v[V_T].v.len / 8;
    if (get_view(o[1], &v[V_SEQ], 2, n, 0, "seq16") < 0
        || get_view(o[2], &v[V_TS], 4, n, 0, "ts32") < 0
        || get_view(o[3], &v[V_MARK], 1, n, 0, "marker") < 0
        || get_view(o[4], &v[V_PT], 2, n, 0, "payload_type") < 0
        || get_view(o[5], &v[V_CLK], 4, n, 0, "clock") < 0
        || get_view(o[6], &v[V_SIZE], 4, n, 0, "size") < 0
        || get_view(o[7], &v[V_STARTS], 8, 0, 0, "starts") < 0
        || get_view(o[8], &v[V_SEQX], 4, n, 1, "seq_ext") < 0
        || get_view(o[9], &v[V_TSX], 8, n, 1, "ts_ext") < 0)
        goto done;
    Py_ssize_t m = v[V_STARTS].v.len / 8;
    for (int k = 0; k < S_COUNT; k++)
        if (get_view(PyTuple_GET_ITEM(outo, k), &v[V_O0 + k], osize[k], m, 1, "output") < 0)
            goto done;
    const int64_t *starts = v[V_STARTS].v.buf;
    Py_ssize_t longest;  /* per-stream scratch, reused: memory of the longest stream */
    if (check_starts(starts, m, n, "rtp_stats", &longest) < 0)
        goto done;
    seq = malloc((size_t)longest * sizeof(int64_t));
    dup = malloc((size_t)longest);
    if (!seq || !dup) {
        PyErr_NoMemory();
        goto done;
    }
    const double *t = v[V_T].v.buf;
    const uint16_t *seq16 = v[V_SEQ].v.buf;
    const uint32_t *ts32 = v[V_TS].v.buf;
    const unsigned char *marker = v[V_MARK].v.buf;
    const int16_t *pt = v[V_PT].v.buf;
    const int32_t *clock = v[V_CLK].v.buf;
    const int32_t *size = v[V_SIZE].v.buf;
    int32_t *seq_ext = v[V_SEQX].v.buf;
    int64_t *ts_ext = v[V_TSX].v.buf;
    int64_t *ts = ts_ext;  /* the extended timestamps are built in place */
    int64_t *o_lost = v[V_O0 + S_LOST].v.buf, *o_dup = v[V_O0 + S_DUP].v.buf;
    int64_t *o_late = v[V_O0 + S_LATE].v.buf, *o_err = v[V_O0 + S_SEQERR].v.buf;
    double *o_mind = v[V_O0 + S_MIND].v.buf, *o_meand = v[V_O0 + S_MEAND].v.buf;
    double *o_maxd = v[V_O0 + S_MAXD].v.buf, *o_minj = v[V_O0 + S_MINJ].v.buf;
    double *o_meanj = v[V_O0 + S_MEANJ].v.buf, *o_maxj = v[V_O0 + S_MAXJ].v.buf;
    int64_t *o_bytes = v[V_O0 + S_BYTES].v.buf;
    unsigned char *o_clock = v[V_O0 + S_CLOCK].v.buf, *o_prob = v[V_O0 + S_PROBLEMS].v.buf;
    int nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < m && !nomem; k++) {
        Py_ssize_t a = starts[k], b = k + 1 < m ? starts[k + 1] : n, len = b - a;
        seq[0] = seq16[a];
        ts[a] = ts32[a];
        for (Py_ssize_t i = a + 1; i < b; i++) {
            seq[i - a] = seq[i - 1 - a] + wrap_step(seq16[i], seq16[i - 1], 1 << 16);
            ts[i] = ts[i - 1] + wrap_step(ts32[i], ts32[i - 1], (int64_t)1 << 32);
        }
        if (mark_duplicates(seq, len, dup) < 0) {
            nomem = 1;
            break;
        }
        int64_t ts0 = ts[a], prev_max = seq[0], ndup = dup[0], late = 0, errs = 0;
        int64_t nbytes = 0;
        int have_nom = 0, have_j = 0, clocked = 0, problems = 0;
        double s_prev = 0.0, jit = 0.0, mind = INFINITY, maxd = -INFINITY, meand = 0.0;
        double minj = INFINITY, maxj = -INFINITY, meanj = 0.0;
        for (Py_ssize_t i = a; i < b; i++) {
            int first = i == a;
            int clk = clock[i] > 0;
            int older = ts[i] - ts0 < 0;
            double nominal = clk ? (double)(ts[i] - ts0) / (double)clock[i] * 1000.0 : NAN;
            nbytes += size[i];
            clocked |= clk;
            if (!first) {
                ndup += dup[i - a];
                if (seq[i - a] < prev_max && !dup[i - a])
                    late++;
                int err = seq[i - a] != prev_max + 1;
                errs += err;
                int wrong_ts = marker[i] && ts[i] <= ts[i - 1];
                problems |= err | wrong_ts;
                if (seq[i - a] > prev_max)
                    prev_max = seq[i - a];
                if (clk && !older && have_nom) {  /* this packet updates the jitter */
                    double d = (t[i] * 1000.0 - t[i - 1] * 1000.0) - (nominal - s_prev);
                    jit = jit + (fabs(d) - jit) * (1.0 / 16);
                    have_j = 1;
                }
            }
            if (clk && !older) {
                s_prev = nominal;
                have_nom = 1;
            }
            double j_here = have_j ? jit : (clk ? 0.0 : NAN);
            int cn = pt[i] == 13 || pt[i] == 19;
            int after_cn = !first && (pt[i - 1] == 13 || pt[i - 1] == 19);
            int regular = !first && !marker[i] && !cn && !after_cn && !older;
            if (regular) {
                double kk = (double)(i - a);
                double delta = (t[i] - t[i - 1]) * 1000.0;
                mind = delta < mind ? delta : mind;
                maxd = delta > maxd ? delta : maxd;
                meand = (meand * (kk - 1) + delta) / kk;
                if (!isnan(j_here) && clk) {
                    minj = j_here < minj ? j_here : minj;
                    maxj = j_here > maxj ? j_here : maxj;
                    meanj = (meanj * (kk - 1) + j_here) / kk;
                }
            }
            seq_ext[i] = (int32_t)seq[i - a];
        }
        o_lost[k] = (seq[b - 1 - a] - seq[0] + 1) - len;
        o_dup[k] = ndup;
        o_late[k] = late;
        o_err[k] = errs;
        o_mind[k] = isfinite(mind) ? mind : -1.0;
        o_maxd[k] = isfinite(maxd) ? maxd : 0.0;
        o_meand[k] = meand;
        o_minj[k] = isfinite(minj) ? minj : -1.0;
        o_maxj[k] = isfinite(maxj) ? maxj : 0.0;
        o_meanj[k] = meanj;
        o_bytes[k] = nbytes;
        o_clock[k] = (unsigned char)clocked;
        o_prob[k] = (unsigned char)problems;
    }
    Py_END_ALLOW_THREADS
    if (nomem)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    free(seq);
    free(dup);
    release_views(v, V_COUNT);
    return result;
}

/* rtp_gather(rows, ts_ns, t0_ns, udp_len, flags, payload_type, seq, rtp_ts, frame, out)
 *   -> None
 * The per-packet columns of RTP streams from the packet table, for table rows ``rows``
 * (i4 or i8, each checked against the table): streams.build._rtp_batch's gathers in one
 * pass. out = (arrival f8 seconds from t0, size i4 payload bytes (ChannelData header off),
 * seq u2, rtp_ts u4, payload_type i2, marker u1, frame u4). */
enum { G_T, G_SIZE, G_SEQ, G_TS, G_PT, G_MARK, G_FRAME, G_COUNT };

static PyObject *rtp_gather(PyObject *self, PyObject *args)
{
    PyObject *o[9], *outo;
    long long t0;
    if (!PyArg_ParseTuple(args, "OOLOOOOOOO!", &o[0], &o[1], &t0, &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &PyTuple_Type, &outo))
        return NULL;
    if (PyTuple_GET_SIZE(outo) != G_COUNT) {
        PyErr_SetString(PyExc_ValueError, "rtp_gather: wrong number of output buffers");
        return NULL;
    }
    enum { V_ROWS, V_TS, V_LEN, V_FLAGS, V_PT, V_SEQ, V_RTS, V_FRAME, V_O0,
           V_COUNT = V_O0 + G_COUNT };
    static const Py_ssize_t osize[G_COUNT] = {8, 4, 2, 4, 2, 1, 4};
    view_t v[V_COUNT];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    if (PyObject_GetBuffer(o[0], &v[V_ROWS].v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    v[V_ROWS].held = 1;
    Py_ssize_t isz = v[V_ROWS].v.itemsize;
    if (isz != 4 && isz != 8) {
        PyErr_SetString(PyExc_ValueError, "rtp_gather: rows must be 32- or 64-bit integers");
        goto done;
    }
    Py_ssize_t n = v[V_ROWS].v.len / isz;
    if (get_view(o[1], &v[V_TS], 8, 0, 0, "ts_ns") < 0)
        goto done;
    Py_ssize_t rows_in_table = v[V_TS].v.len / 8;
    if (get_view(o[3], &v[V_LEN], 2, rows_in_table, 0, "udp_len") < 0
        || get_view(o[4], &v[V_FLAGS], 1, rows_in_table, 0, "flags") < 0
        || get_view(o[5], &v[V_PT], 1, rows_in_table, 0, "payload_type") < 0
        || get_view(o[6], &v[V_SEQ], 2, rows_in_table, 0, "seq") < 0
        || get_view(o[7], &v[V_RTS], 4, rows_in_table, 0, "rtp_ts") < 0
        || get_view(o[8], &v[V_FRAME], 4, rows_in_table, 0, "frame") < 0)
        goto done;
    for (int k = 0; k < G_COUNT; k++)
        if (get_view(PyTuple_GET_ITEM(outo, k), &v[V_O0 + k], osize[k], n, 1, "output") < 0)
            goto done;
    const char *rows = v[V_ROWS].v.buf;
    const int64_t *ts = v[V_TS].v.buf;
    const uint16_t *len = v[V_LEN].v.buf, *seq = v[V_SEQ].v.buf;
    const unsigned char *flags = v[V_FLAGS].v.buf, *pt = v[V_PT].v.buf;
    const uint32_t *rts = v[V_RTS].v.buf, *frame = v[V_FRAME].v.buf;
    double *o_t = v[V_O0 + G_T].v.buf;
    int32_t *o_size = v[V_O0 + G_SIZE].v.buf;
    uint16_t *o_seq = v[V_O0 + G_SEQ].v.buf;
    uint32_t *o_ts = v[V_O0 + G_TS].v.buf, *o_frame = v[V_O0 + G_FRAME].v.buf;
    int16_t *o_pt = v[V_O0 + G_PT].v.buf;
    unsigned char *o_mark = v[V_O0 + G_MARK].v.buf;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t r = isz == 4 ? ((const int32_t *)rows)[i] : ((const int64_t *)rows)[i];
        if (r < 0 || r >= rows_in_table) {
            bad = 1;
            break;
        }
        o_t[i] = (double)(ts[r] - (int64_t)t0) / 1e9;
        o_size[i] = (flags[r] & 4) ? (int32_t)len[r] - 4 : (int32_t)len[r]; /* F_CHANNEL */
        o_seq[i] = seq[r];
        o_ts[i] = rts[r];
        o_pt[i] = pt[r];
        o_mark[i] = (flags[r] & 64) != 0; /* F_MARKER */
        o_frame[i] = frame[r];
    }
    Py_END_ALLOW_THREADS
    if (bad)
        PyErr_SetString(PyExc_IndexError, "rtp_gather: a row lies outside the table");
    else
        result = Py_NewRef(Py_None);
done:
    release_views(v, V_COUNT);
    return result;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* rtp_clock_fit(arrival f8, ts32 u4, seq16 u2, starts i8, slope f8 out, step f8 out) -> None
 * For streams stored back to back (streams.clock._infer_batch's vectorised part): the
 * least-squares slope of the unwrapped RTP time over arrival time (0 where undefined), and
 * the median of the timestamp steps between consecutive sequence numbers (NaN where
 * none). */
static PyObject *rtp_clock_fit(PyObject *self, PyObject *args)
{
    PyObject *o[6];
    if (!PyArg_ParseTuple(args, "OOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5]))
        return NULL;
    view_t v[6];
    memset(v, 0, sizeof v);
    PyObject *result = NULL;
    int64_t *scratch = NULL;
    if (get_view(o[0], &v[0], 8, 0, 0, "arrival") < 0)
        goto done;
    Py_ssize_t n = v[0].v.len / 8;
    if (get_view(o[1], &v[1], 4, n, 0, "ts32") < 0 || get_view(o[2], &v[2], 2, n, 0, "seq16") < 0
        || get_view(o[3], &v[3], 8, 0, 0, "starts") < 0)
        goto done;
    Py_ssize_t m = v[3].v.len / 8;
    if (get_view(o[4], &v[4], 8, m, 1, "slope") < 0 || get_view(o[5], &v[5], 8, m, 1, "step") < 0)
        goto done;
    const int64_t *starts = v[3].v.buf;
    Py_ssize_t longest;
    if (check_starts(starts, m, n, "rtp_clock_fit", &longest) < 0)
        goto done;
    scratch = malloc((size_t)longest * sizeof(int64_t));
    if (scratch == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const double *t = v[0].v.buf;
    const uint32_t *ts32 = v[1].v.buf;
    const uint16_t *seq = v[2].v.buf;
    double *slope = v[4].v.buf, *step = v[5].v.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < m; k++) {
        Py_ssize_t a = starts[k], b = k + 1 < m ? starts[k + 1] : n, len = b - a;
        double st = 0.0, sts = 0.0;
        int64_t ext = ts32[a];
        for (Py_ssize_t i = a; i < b; i++) {
            if (i > a)
                ext += wrap_step(ts32[i], ts32[i - 1], (int64_t)1 << 32);
            st += t[i];
            sts += (double)ext;
        }
        double tm = st / (double)len, tsm = sts / (double)len, num = 0.0, den = 0.0;
        Py_ssize_t nsteps = 0;
        ext = ts32[a];
        for (Py_ssize_t i = a; i < b; i++) {
            if (i > a) {
                int64_t d = wrap_step(ts32[i], ts32[i - 1], (int64_t)1 << 32);
                ext += d;
                if (((seq[i] - seq[i - 1]) & 0xFFFF) == 1 && d > 0)
                    scratch[nsteps++] = d;
            }
            double dt = t[i] - tm, dts = (double)ext - tsm;
            num += dt * dts;
            den += dt * dt;
        }
        slope[k] = den > 0 ? num / den : 0.0;
        if (nsteps == 0) {
            step[k] = NAN;
            continue;
        }
        qsort(scratch, (size_t)nsteps, sizeof(int64_t), cmp_i64);
        step[k] = nsteps % 2 ? (double)scratch[nsteps / 2]
                             : ((double)scratch[nsteps / 2 - 1] + (double)scratch[nsteps / 2]) / 2;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free(scratch);
    release_views(v, 6);
    return result;
}

static PyMethodDef methods[] = {
    {"pcap_offsets", pcap_offsets, METH_VARARGS, "Offsets of the pcap records in a chunk."},
    {"pcapng_packets", pcapng_packets, METH_VARARGS,
     "Offsets and types of consecutive pcapng packet blocks."},
    {"pcap_fields", pcap_fields, METH_VARARGS,
     "Time and lengths from the pcap record headers at the given offsets."},
    {"pcapng_fields", pcapng_fields, METH_VARARGS,
     "Fixed fields of the pcapng packet blocks at the given offsets."},
    {"decode_udp", decode_udp, METH_VARARGS,
     "Link layer, IPv4/IPv6 and UDP headers of a record batch, into column buffers."},
    {"dissect_heads", dissect_heads, METH_VARARGS,
     "Header fields of UDP payload heads (STUN, DTLS, ChannelData, RTCP, RTP), into columns."},
    {"flow_assign", flow_assign, METH_VARARGS,
     "Dense flow ids of a batch's flow keys, adding new flows to the map."},
    {"flow_rehash", flow_rehash, METH_VARARGS, "Fill a grown flow map's slots from its keys."},
    {"rtp_gather", rtp_gather, METH_VARARGS,
     "The per-packet columns of RTP streams, gathered from the packet table."},
    {"rtp_clock_fit", rtp_clock_fit, METH_VARARGS,
     "Per stream: the slope of RTP time over arrival time, and the median timestamp step."},
    {"rtp_stats", rtp_stats, METH_VARARGS,
     "TShark's per-stream RTP statistics and the extended counters, one pass per stream."},
    {"flow_reverse", flow_reverse, METH_VARARGS,
     "Each flow's opposite-direction flow in the map, or -1."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_walk", "Compiled per-record loops of the capture reader.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__walk(void) { return PyModule_Create(&module); }
