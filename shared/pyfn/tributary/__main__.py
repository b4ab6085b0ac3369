"""python3 -m tributary MODULE: the process side of shared/pyfn's protocol.

MODULE is a .py file, or a directory whose main.py is the entry module.
The protocol runs over the fds that were stdin and stdout when the
interpreter started; see protocol.md beside this file. Once it runs, fd 0
reads /dev/null and fd 1 is the log (stderr), so neither print(), a child
process, nor a C extension writing to stdout can corrupt a frame.
"""

import base64
import importlib.util
import json
import os
import signal
import struct
import sys
import traceback
from time import monotonic, perf_counter

from tributary import Message, Record

_LEN = struct.Struct(">I")

# The longest a finished result waits in the buffer, in seconds.
FLUSH_EVERY = 0.005

# Classes of a failed message, as the Go runtime names them (shared/worker).
CLASS_PROCESS = "process_error"
CLASS_BAD_OUTPUT = "bad_output"


class BadOutput(Exception):
    """process() returned something that is not a record."""


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: python3 -m tributary MODULE (a .py file, or a directory with main.py)\n")
        return 2
    rd, wr = _claim_stdio()
    try:
        module = _load(argv[1])
        process = getattr(module, "process", None)
        if not callable(process):
            raise AttributeError("%s defines no process(message, consumer_name, metadatas)" % argv[1])
        hello = _read(rd)
        if hello is None:
            return 0
        hello = hello["init"]
        consumer, meta = hello["consumer_name"], hello["metadatas"]
        init = getattr(module, "init", None)
        if callable(init):
            init(meta)
    except BaseException:  # an import error, or init failing or calling sys.exit
        _write(wr, {"fatal": traceback.format_exc()})
        return 2
    _write(wr, {"ready": {"python": sys.version.split()[0], "pid": os.getpid(), "init": callable(init)}})
    while True:
        frame = _read(rd)
        if frame is None:  # the worker closed the pipe: it is stopping
            return 0
        # Results go out together, in one frame, at the end of the batch
        # and whenever FLUSH_EVERY has passed since the last write: a write
        # and a JSON encoding a message would cost more than the call, and
        # the worker still sees progress often enough to time out only a
        # message that is really stuck.
        out, last = [], monotonic()
        for m in frame["batch"]:
            out.append(_call(process, m, consumer, meta))
            now = monotonic()
            if now - last >= FLUSH_EVERY:
                _send(wr, _results(out))
                out, last = [], now
        if out:
            _send(wr, _results(out))


def _claim_stdio():
    """Keeps stdin/stdout for the protocol and points fds 0 and 1 elsewhere."""
    rd, wr = os.dup(0), os.dup(1)  # dup'd fds are not inherited by children
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr  # line-buffered, so a print reaches the log at once
    # The worker stops the interpreter by closing the pipe, after its last
    # batch; a signal sent to the whole process group must not cut one short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return os.fdopen(rd, "rb", buffering=1 << 16), wr


def _load(path):
    path = os.path.abspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "main.py")
    if not os.path.isfile(path):
        raise FileNotFoundError("no Python module at %s" % path)
    sys.path.insert(0, os.path.dirname(path))  # its own modules import beside it
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _call(process, m, consumer, meta):
    """One message's result, as the protocol's {"r": [...]} or {"e", "c"},
    with "d", the nanoseconds process() took."""
    msg = Message(m["v"], m.get("k"), m.get("h"), m.get("t"), m.get("j"))
    start = perf_counter()
    try:
        out = process(msg, consumer, meta)
    except SystemExit as e:
        return {"e": "process called sys.exit(%r); a function cannot stop its worker\n%s" % (e.code, _traceback()),
                "c": CLASS_PROCESS, "d": _nanos(start)}
    except BaseException:
        return {"e": _traceback(), "c": CLASS_PROCESS, "d": _nanos(start)}
    took = _nanos(start)
    if type(out) is Message or type(out) is dict:  # the common case, without _records' checks
        return {"r": [{"v": out}], "d": took}
    try:
        return {"r": _records(out), "d": took}
    except BadOutput as e:
        return {"e": str(e), "c": CLASS_BAD_OUTPUT, "d": took}


def _nanos(start):
    return int((perf_counter() - start) * 1e9)


def _traceback():
    """The traceback of the exception being handled, without this file's frame."""
    t, e, tb = sys.exc_info()
    return "".join(traceback.format_exception(t, e, tb.tb_next))


def _records(out):
    if out is None:
        return []
    if isinstance(out, (dict, Record)):
        return [_record(out, 0)]
    if isinstance(out, (list, tuple)):
        return [_record(r, i) for i, r in enumerate(out)]
    raise BadOutput("process returned %s; want a dict, a Record, a list of them, or None" % type(out).__name__)


def _record(r, i):
    if isinstance(r, dict):
        return {"v": r}
    if not isinstance(r, Record):
        raise BadOutput("record %d is a %s; want a dict or a Record" % (i, type(r).__name__))
    if not isinstance(r.value, dict):
        raise BadOutput("record %d: value is a %s; want a dict" % (i, type(r.value).__name__))
    out = {"v": r.value}
    if r.topics is not None:
        if isinstance(r.topics, str) or not all(isinstance(t, str) for t in r.topics):
            raise BadOutput("record %d: topics must be a list of topic names" % i)
        out["t"] = list(r.topics)
    if r.key is not None:
        out["k"] = _b64(r.key, "record %d: key" % i)
    if r.headers:
        pairs = r.headers.items() if isinstance(r.headers, dict) else r.headers
        try:
            out["h"] = [{"k": str(k), "v": _b64(v, "record %d: header %s" % (i, k))} for k, v in pairs]
        except (TypeError, ValueError):
            raise BadOutput("record %d: headers must be a dict or a list of (name, value) pairs" % i)
    return out


def _b64(v, what):
    if isinstance(v, str):
        v = v.encode()
    if not isinstance(v, (bytes, bytearray)):
        raise BadOutput("%s is a %s; want str or bytes" % (what, type(v).__name__))
    return base64.b64encode(v).decode("ascii")


def _read(f):
    head = f.read(4)
    if len(head) < 4:
        return None
    (n,) = _LEN.unpack(head)
    body = f.read(n)
    if len(body) < n:
        return None
    return json.loads(body)


_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


def _encode(obj):
    return _frame(_dumps(obj).encode())


def _frame(body):
    return _LEN.pack(len(body)) + body


def _results(out):
    """The frame of several messages' results, {"rs": [...]}, in order."""
    try:
        return _frame(_dumps({"rs": out}).encode())
    except (TypeError, ValueError):  # some value JSON cannot carry: find it
        pass
    parts = []
    for r in out:
        try:
            parts.append(_dumps(r))
        except (TypeError, ValueError) as e:  # that message's error alone
            parts.append(_dumps({"e": "process returned a value that is not JSON: %s" % e, "c": CLASS_BAD_OUTPUT}))
    return _frame(('{"rs":[' + ",".join(parts) + "]}").encode())


def _write(fd, obj):
    _send(fd, _encode(obj))


def _send(fd, b):
    view = memoryview(b)
    while view:  # a pipe may take a large write in several
        view = view[os.write(fd, view):]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
