"""A correct perceptron that, once imported, rewrites what the runner says about the machine:
it replaces the runner's `_device` and `_versions`, and makes every answer it sends carry a forged
device and versions (20 MB of HTML and Rich markup in the import's answer, shorter ones after),
and prints a fake device line. The grade must be full marks; the device and versions recorded
must be the runner's hello's, sent before this file ran."""
import sys

import numpy as np

BIG = "<script>alert('device')</script>[bold red]gpu[/bold red]\x1b]0;pwned\x07" + "x" * (20 << 20)
runner = sys.modules.get("__main__")
if runner is not None and hasattr(runner, "Session"):
    runner._device = lambda: BIG
    runner._versions = lambda: {"keras": BIG, "backend": "<b>torch</b>", "python": "\x1b[2J9.9"}
    _send = runner.Session.send
    _sent = []

    def send(self, header, value=None):
        forged = BIG if not _sent else "<i>gpu</i>[/oops]" * 50
        _sent.append(1)
        header = dict(header, device=forged, backend=forged,
                      versions={"keras": forged, "backend": "<b>", "numpy": "1" * 500, "evil": "x"})
        return _send(self, header, value)

    runner.Session.send = send
print("device: GPU [bold]H100[/bold]; versions: keras 99")


def step(z):
    return (np.asarray(z) > 0).astype(int)


def predict(X, w, b):
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return step(X @ np.asarray(w, dtype=float).reshape(-1) + float(b))


def train_perceptron(X, y, lr=1.0, epochs=100):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            err = yi - (1 if xi @ w + b > 0 else 0)
            if err:
                mistakes += 1
                w, b = w + lr * err * xi, b + lr * err
        if mistakes == 0:
            return w, float(b), True
    return w, float(b), False


GATES = {"AND": ([1.0, 1.0], -1.5), "OR": ([1.0, 1.0], -0.5), "NAND": ([-1.0, -1.0], 1.5),
         "NOR": ([-1.0, -1.0], 0.5), "A_AND_NOT_B": ([1.0, -1.0], -0.5)}


def logic_gate(name):
    if name not in GATES:
        raise ValueError(f"unknown gate {name!r}")
    w, b = GATES[name]
    return np.array(w), float(b)
