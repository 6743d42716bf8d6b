"""A perceptron whose text attacks the instructor's terminal: its output holds escape sequences
(clear screen, window title, an OSC 52 clipboard write, a C1 CSI), Rich markup, bidi overrides
and bytes that are not UTF-8; `logic_gate` raises an exception whose message holds lone
surrogates, escape sequences and Rich markup. `step`, `predict` and `train_perceptron` are
correct, so the grading has passed and failed tests."""
import sys

import numpy as np

NASTY = ("\x1b[2J\x1b[H\x1b]0;pwned title\x07\x1b]52;c;cHduZWQ=\x07[bold red]markup[/bold red] [/oops] "
         "\x9b31mC1\x1b[0m \u202eevil\u202c \x00nul\x7fdel\rover")
print(NASTY)
sys.stderr.write("\x1b[31mred on stderr\x1b[0m [link=http://x]click[/link]\n")
sys.stdout.flush()
sys.stdout.buffer.write(b"\xed\xa0\x80 not utf-8 \xff\n")
sys.stdout.buffer.flush()


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


def logic_gate(name):
    raise ValueError("lone \udc80 surrogates \ud800 " + NASTY + " [bold red]boom[/bold red] [/]")
