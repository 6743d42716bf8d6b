"""Style transfer's losses in numpy: the Gram matrix, the content loss, the style loss and the
total loss that an optimizer minimizes over the generated image (lecture 004).

Feature maps are numpy arrays of shape (h, w, c) (height, width, channels: Keras's layout), as a
convolutional network's layer gives them for one image. Use numpy only.
"""

import numpy as np


def gram_matrix(features):
    """The Gram matrix of one layer's feature maps `features` of shape (h, w, c): a (c, c) array
    whose entry [i, j] is the sum over the h * w positions of channel i times channel j, divided
    by h * w. Flatten the positions first: F of shape (h * w, c), then G = F.T @ F / (h * w).
    Raise ValueError when `features` is not 3-D.
    """
    ### BEGIN SOLUTION
    f = np.asarray(features, dtype=float)
    if f.ndim != 3:
        raise ValueError(f"features must have shape (h, w, c), not {f.shape}")
    h, w, c = f.shape
    flat = f.reshape(h * w, c)
    return flat.T @ flat / (h * w)
    ### END SOLUTION


def content_loss(target, content):
    """The content loss of lecture 004, the mean squared error between the generated image's
    features `target` and the content image's features `content` (same shape):
    mean((target - content) ** 2), a float. (Gatys et al.'s 1/2 * sum((target - content) ** 2)
    is accepted too.) Raise ValueError when the shapes differ.
    """
    ### BEGIN SOLUTION
    t, c = np.asarray(target, dtype=float), np.asarray(content, dtype=float)
    if t.shape != c.shape:
        raise ValueError(f"target and content must have the same shape, not {t.shape} and {c.shape}")
    return float(np.mean((t - c) ** 2))
    ### END SOLUTION


def style_loss(target_grams, style_grams, weights):
    """The style loss: for each layer l, the mean squared difference of the two Gram matrices,
    weighted by weights[l] and added up:
    sum over l of weights[l] * mean((target_grams[l] - style_grams[l]) ** 2), a float.
    The three arguments are lists of the same length (one Gram matrix or weight per layer).
    (Gatys et al.'s 1 / (4 N^2) * sum(...) per layer, a quarter of the mean, is accepted too.)
    Raise ValueError when the lists have different lengths.
    """
    ### BEGIN SOLUTION
    if not len(target_grams) == len(style_grams) == len(weights):
        raise ValueError("target_grams, style_grams and weights must have one entry per layer each")
    total = 0.0
    for g_t, g_s, w in zip(target_grams, style_grams, weights):
        g_t, g_s = np.asarray(g_t, dtype=float), np.asarray(g_s, dtype=float)
        total += float(w) * float(np.mean((g_t - g_s) ** 2))
    return total
    ### END SOLUTION


def total_loss(content, style, alpha, beta):
    """The loss the generated image minimizes: alpha * content + beta * style, a float
    (alpha weighs the content loss, beta the style loss)."""
    ### BEGIN SOLUTION
    return float(alpha * content + beta * style)
    ### END SOLUTION
