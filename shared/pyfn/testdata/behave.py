# A function whose behaviour each message picks with its "do" field, for
# the tests of shared/pyfn.
import os
import sys
import time

from tributary import Record

state = {}


def init(metadatas):
    state["meta"] = metadatas
    if metadatas and metadatas.get("fail_init"):
        raise ValueError("bad metadata: fail_init is set")


def process(message, consumer_name, metadatas):
    do = message.get("do")
    if do == "raise":
        raise ValueError("cannot process " + message["id"])
    if do == "exit":
        sys.exit(3)
    if do == "loop":
        while True:
            pass
    if do == "print":
        for i in range(message.get("lines", 1)):
            print("storm line", i)
    if do == "fd1":
        os.write(1, b"\x00\x00\x00\x05junk!")  # a frame's worth of garbage on fd 1
    if do == "crash":
        marker = message.get("marker")
        if marker is None or not os.path.exists(marker):
            if marker:
                open(marker, "w").close()
            os._exit(9)
    if do == "sleep":
        time.sleep(message.get("seconds", 0.01))
    if do == "bad":
        return "not a dict"
    if do == "nan":
        return {"x": float("nan")}
    if do == "filter":
        return None
    if do == "fanout":
        return [
            Record({"id": message["id"], "part": 1}, topics=["a"], key="k-" + message["id"], headers={"h": "v"}),
            Record({"id": message["id"], "part": 2}, topics=["b"]),
            {"id": message["id"], "part": 3, "consumer": consumer_name, "meta": metadatas,
             "join_id": message.join_id, "topics": message.topics,
             "in_key": message.key.decode() if message.key else None,
             "in_headers": {k: v.decode() for k, v in message.headers}},
        ]
    return message
