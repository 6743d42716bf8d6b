"""Start a grandchild in its own session that ignores SIGTERM and lives forever, then hang."""
import os
import signal
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while True:
            time.sleep(0.05)
    os._exit(0)

signal.signal(signal.SIGTERM, signal.SIG_IGN)


def step(z):
    while True:
        time.sleep(1)


predict = train_perceptron = logic_gate = step
