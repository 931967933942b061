"""Helpers shared by the fault-injection regress tests (tests/regress/fault-*.py):
checking counter.py output for gaps, and reading a session's log segments
directly (records, zstd through the libzstd the binaries link) so a test can
say exactly which records damage should cost. Not a test itself."""
import ctypes
import ctypes.util
import os
import re
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "counter.py")
# counter.py's lines as the PTY gives them back (onlcr)
LINE = re.compile(rb"line (\d{9}) (x*)\r\n")

HDR = struct.Struct("<HBBIQQII")  # docs/internals/history.md: the 32-byte record header
MAGIC = 0x5452
OUTPUT, INPUT, RESIZE, EXIT, MARK, DROP = 1, 2, 3, 4, 5, 6


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def counter_lines(data, what, pad=40, first=0):
    """data must be counter lines first, first+1, ... with at most a torn last
    line; returns how many whole lines there are."""
    pos, n = 0, first
    while True:
        m = LINE.match(data, pos)
        if not m:
            break
        check(int(m.group(1)) == n and len(m.group(2)) == pad,
              "%s: line %d where %d was due (byte %d)" % (what, int(m.group(1)), n, pos))
        n += 1
        pos = m.end()
    rest = data[pos:]
    whole = (b"line %09d %s\r\n" % (n, b"x" * pad))
    check(len(rest) < len(whole) and whole.startswith(rest),
          "%s: garbage after line %d: %r" % (what, n - 1, rest[:80]))
    return n - first


def counter_runs(data, pad=40):
    """Split output into runs of consecutive whole counter lines; what lies
    between runs (torn lines at gaps) is returned as junk. Returns
    ([(first, count)], [junk bytes])."""
    runs, junk = [], []
    pos = 0
    cur = None
    while pos < len(data):
        m = LINE.match(data, pos)
        if m and len(m.group(2)) == pad:
            k = int(m.group(1))
            if cur is not None and k == cur[0] + cur[1]:
                cur[1] += 1
            else:
                cur = [k, 1]
                runs.append(cur)
            pos = m.end()
            continue
        nxt = data.find(b"line ", pos + 1)
        nxt = len(data) if nxt < 0 else nxt
        junk.append(data[pos:nxt])
        cur = None
        pos = nxt
    return [tuple(r) for r in runs], junk


def parse_records(buf):
    """The valid records of a segment's raw bytes, in order, with the positions
    of damage: ([(pos, type, offset, payload)], [bad positions])."""
    recs, bad = [], []
    pos = 0
    while pos + 32 <= len(buf):
        magic, typ, flags, ln, t, off, crc, res = HDR.unpack_from(buf, pos)
        ok = magic == MAGIC and 1 <= typ <= 6 and res == 0 and ln <= (1 << 20) and \
            pos + 32 + ln <= len(buf)
        if ok:
            hdr = bytearray(buf[pos:pos + 32])
            hdr[24:28] = b"\0\0\0\0"
            ok = zlib.crc32(bytes(buf[pos + 32:pos + 32 + ln]), zlib.crc32(bytes(hdr))) == crc
        if not ok:
            bad.append(pos)
            pos += 1
            continue
        recs.append((pos, typ, off, bytes(buf[pos + 32:pos + 32 + ln])))
        pos += 32 + ln
    if pos < len(buf):
        bad.append(pos)
    return recs, bad


_zstd = None


def zstd_decompress(data):
    """One zstd frame with its content size, decoded by libzstd through ctypes."""
    global _zstd
    if _zstd is None:
        _zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        _zstd.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
        _zstd.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        _zstd.ZSTD_decompress.restype = ctypes.c_size_t
        _zstd.ZSTD_decompress.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.c_size_t]
        _zstd.ZSTD_isError.restype = ctypes.c_uint
        _zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
    n = _zstd.ZSTD_getFrameContentSize(data, len(data))
    check(n < (1 << 30), "zstd frame without a content size")
    out = ctypes.create_string_buffer(max(1, n))
    r = _zstd.ZSTD_decompress(out, n, data, len(data))
    check(not _zstd.ZSTD_isError(r) and r == n, "zstd: cannot decompress")
    return out.raw[:n]


def segments(logdir):
    """{number: (ext, raw record bytes)} of a log directory, sealed ones decompressed."""
    out = {}
    for name in sorted(os.listdir(logdir)):
        m = re.match(r"^(\d{10})\.(log|zst)$", name)
        if not m:
            continue
        num, ext = int(m.group(1)), m.group(2)
        with open(os.path.join(logdir, name), "rb") as f:
            data = f.read()
        if ext == "zst":
            data = zstd_decompress(data)
        if num not in out or ext == "zst":
            out[num] = (ext, data)
    return out


def proc_state(pid):
    """The one-letter state of a process, or None when it is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return None if st in ("Z", "X") else st
