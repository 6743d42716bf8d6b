"""A correct gradient-descent learner using PyTorch's momentum convention (v = momentum * v + g;
w = w - lr * v), which its README allows, a list of iterates from gradient_descent, and a numpy
array of rates from reduce_on_plateau. It must get full marks."""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - lr * grad(xs[-1]))
    return [float(x) for x in xs]


def sgd_momentum(grad, w0, lr, momentum, steps):
    w = np.asarray(w0, dtype=float)
    v = np.zeros(w.shape)
    out = np.empty((steps + 1,) + w.shape)
    out[0] = w
    for k in range(steps):
        v = momentum * v + grad(w)
        w = w - lr * v
        out[k + 1] = w
    return out


def inverse_time_decay(lr0, decay, step):
    return np.float64(lr0) * (1.0 / (1.0 + decay * step))


def reduce_on_plateau(val_losses, lr0, factor=0.1, patience=1):
    rates = np.empty(len(val_losses))
    lr, best, bad = lr0, float("inf"), 0
    for i, loss in enumerate(val_losses):
        rates[i] = lr
        if loss < best:
            best, bad = loss, 0
            continue
        bad += 1
        if bad == patience:
            lr, bad = lr * factor, 0
    return rates
