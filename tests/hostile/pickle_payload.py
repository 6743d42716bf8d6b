"""Return pickles, object arrays, and a forged frame whose .npy blob holds a pickle that would
create a file on the grader's host if anything unpickled it."""
import os
import pickle
import struct
import sys
import json

import numpy as np

TARGET = os.environ.get("DLGRADE_PWN_FILE", "/tmp/dlgrade-pwned-by-pickle")


class Evil:
    def __reduce__(self):
        return (open, (TARGET, "w"))


def step(z):
    return pickle.dumps(Evil())


def predict(X, w, b):
    return np.array([Evil(), Evil()], dtype=object)


def train_perceptron(X, y, lr=1.0, epochs=100):
    # Forge a response frame by hand on the response descriptor (the runner's argv holds it).
    resp_fd = int(sys.argv[2])
    import io
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    blob = buf.getvalue()
    head = json.dumps({"status": "ok", "value": {"A": 0}, "blobs": [len(blob)]}).encode()
    body = struct.pack(">I", len(head)) + head + blob
    os.write(resp_fd, struct.pack(">Q", len(body)) + body)
    return None


def logic_gate(name):
    return {"w": memoryview(b"xx")}, 0.0
