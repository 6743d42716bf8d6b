"""Gradient descent by hand: plain descent in one dimension, stochastic gradient descent with
momentum in Keras' convention, and two learning-rate schedules (inverse time decay, and dividing
the rate when the validation loss stops improving).

`grad` is a function the grader hands you: `grad(w)` is the gradient of the function being
minimized at w (a float for a number, an array of w's shape for an array), and `grad.value(w)` is
the function's value there. Use numpy only. Run the public tests with `dlgrade check`.
"""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    """Plain gradient descent in one dimension: x_{k+1} = x_k - lr * grad(x_k), from x0.
    Return the steps + 1 iterates [x0, x1, ..., x_steps] as a 1-D float array. A rate that is too
    large makes the iterates grow: return them as they are (do not clamp or stop early)."""
    ### BEGIN SOLUTION
    xs = [float(x0)]
    x = float(x0)
    for _ in range(steps):
        x = x - lr * float(grad(x))
        xs.append(x)
    return np.array(xs)
    ### END SOLUTION


def sgd_momentum(grad, w0, lr, momentum, steps):
    """Gradient descent with momentum as keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    does it, with the velocity v starting at 0:
        v = momentum * v - lr * grad(w)
        w = w + v
    w0 is a number or an array of any shape. Return the steps + 1 iterates [w0, w1, ...] stacked
    into a float array of shape (steps + 1,) + shape of w0."""
    ### BEGIN SOLUTION
    w = np.array(w0, dtype=float)
    v = np.zeros_like(w)
    out = [w.copy()]
    for _ in range(steps):
        v = momentum * v - lr * np.asarray(grad(w), dtype=float)
        w = w + v
        out.append(w.copy())
    return np.stack(out)
    ### END SOLUTION


def inverse_time_decay(lr0, decay, step):
    """The learning rate at training step `step` (0 for the first update) under inverse time
    decay: lr0 / (1 + decay * step), as keras.optimizers.schedules.InverseTimeDecay(lr0,
    decay_steps=1, decay_rate=decay). Return a float."""
    ### BEGIN SOLUTION
    return float(lr0 / (1.0 + decay * step))
    ### END SOLUTION


def reduce_on_plateau(val_losses, lr0, factor=0.1, patience=1):
    """The learning rate used in each epoch when it is multiplied by `factor` every time the
    validation loss has not improved for `patience` epochs (keras.callbacks.ReduceLROnPlateau with
    min_delta=0, cooldown=0). Epoch 0 uses lr0. After epoch i, with loss val_losses[i]: if it is
    strictly below the best loss so far, it becomes the best and the count of bad epochs goes back
    to 0; otherwise the count grows by 1, and when it reaches `patience` the rate is multiplied by
    `factor` and the count goes back to 0. The new rate applies from epoch i + 1.
    Return a list of len(val_losses) floats."""
    ### BEGIN SOLUTION
    rates = []
    lr = float(lr0)
    best = np.inf
    wait = 0
    for loss in val_losses:
        rates.append(lr)
        if loss < best:
            best = loss
            wait = 0
        else:
            wait += 1
            if wait >= patience:
                lr = lr * factor
                wait = 0
    return rates
    ### END SOLUTION
