"""Try to reach a TCP server on the grader's loopback and a Unix socket on its disk."""
import os
import socket

RESULTS = []
port = int(os.environ.get("DLGRADE_TEST_PORT", "0") or 0)
for family, address in ((socket.AF_INET, ("127.0.0.1", 47613)), (socket.AF_UNIX, "/tmp/dlgrade-test.sock")):
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(address)
        s.sendall(b"stolen")
        RESULTS.append(("connected", address))
    except Exception as err:
        RESULTS.append((type(err).__name__, str(err)))
print("NET", RESULTS)


def step(z):
    raise RuntimeError(repr(RESULTS))


predict = train_perceptron = logic_gate = step
