"""Tributary's Python runtime: runs a module's process() for a Go worker.

A function module defines, as the original workers' worker.py did:

    def process(message, consumer_name, metadatas):
        ...

and optionally init(metadatas), called once before the first message. The
Go runtime (package shared/pyfn) starts `python3 -m tributary MODULE` and
owns everything else: consuming, joining, commits, retries, dead letters,
traces and metrics.

process() gets the joined message as a Message (a dict with the input's
key, headers, topics and join id as attributes) and returns:
  - a dict: one record to every output topic, keyed by the join id;
  - None: nothing (the message is filtered);
  - a list of dicts and Records: zero, one or many records;
  - a Record: a value with a chosen subset of the output topics, a key or
    headers.
An exception (SystemExit included) fails that message alone; the worker
retries it and then dead-letters it with the traceback.
"""

import base64

__all__ = ["Message", "Record"]


class Message(dict):
    """The joined JSON object, with the Kafka side of the input.

    key (bytes or None) and headers (a list of (name, bytes) pairs) are
    those of the input record that completed the join; topics are the input
    topics whose fragments were joined; join_id is the value of the join
    key. It is a dict: json.dumps(message) works.

    key and headers arrive base64-encoded and are decoded when first read:
    most functions never read them, and decoding each costs as much as the
    call of a trivial function.
    """

    __slots__ = ("_k", "_h", "topics", "join_id")

    def __init__(self, value=(), key=None, headers=None, topics=None, join_id=None):
        dict.__init__(self, value)
        self._k = key  # bytes, or the protocol's base64 str
        self._h = headers  # a list of pairs, or the protocol's [{"k", "v"}]
        self.topics = topics or []
        self.join_id = join_id

    @property
    def key(self):
        k = self._k
        if isinstance(k, str):
            k = self._k = base64.b64decode(k)
        return k

    @key.setter
    def key(self, v):
        self._k = v.encode() if isinstance(v, str) else v

    @property
    def headers(self):
        h = self._h
        if not h:
            return []
        if isinstance(h[0], dict):
            h = self._h = [(x["k"], base64.b64decode(x["v"])) for x in h]
        return h

    @headers.setter
    def headers(self, v):
        self._h = list(v) if v else None


class Record:
    """One output record: value (a dict) and, optionally, where it goes.

    topics: a subset of the worker's output topics (None: all of them).
    key: str or bytes (None: the join id).
    headers: a dict or a list of (name, value) pairs; values str or bytes.
    The trace context header is always set by the runtime.
    """

    __slots__ = ("value", "topics", "key", "headers")

    def __init__(self, value, topics=None, key=None, headers=None):
        self.value = value
        self.topics = topics
        self.key = key
        self.headers = headers

    def __repr__(self):
        return "Record(%r, topics=%r, key=%r, headers=%r)" % (self.value, self.topics, self.key, self.headers)
