# The function of shared/pyfn's tests against the stack: a join's output
# fanned out, and each failure a Python author can cause, picked by "do".
import sys
import time

from tributary import Record


def process(message, consumer_name, metadatas):
    do = message.get("do")
    if do == "raise":
        raise RuntimeError("no luck for " + message["id"])
    if do == "exit":
        sys.exit(1)
    if do == "loop":
        while True:
            pass
    if do == "print":
        for i in range(20000):
            print("storm", i)
    if do == "sleep":
        time.sleep(0.02)
    if metadatas and metadatas.get("fanout"):
        return [
            Record({"id": message["id"], "copy": "a"}, topics=[metadatas["fanout"]], key="a-" + message.join_id,
                   headers={"x-from": ",".join(message.topics)}),
            message,  # to every output topic, keyed by the join id
        ]
    return message
