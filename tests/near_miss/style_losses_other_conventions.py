"""style-losses written in the other conventions the README allows: Gatys et al.'s 1/2 * sum for
the content loss and a quarter of the mean per layer for the style loss, the Gram matrix by
einsum in float32 features' own arithmetic, plain Python sums, numpy scalars returned."""

import numpy as np


def gram_matrix(features):
    features = np.asarray(features)
    if len(features.shape) != 3:
        raise ValueError("expected (h, w, c)")
    h, w, _ = features.shape
    return np.einsum("hwi,hwj->ij", features.astype(np.float64), features.astype(np.float64)) / (h * w)


def content_loss(target, content):
    target, content = np.asarray(target), np.asarray(content)
    if target.shape != content.shape:
        raise ValueError("shapes differ")
    return 0.5 * np.sum(np.square(target - content))


def style_loss(target_grams, style_grams, weights):
    if len(target_grams) != len(style_grams) or len(style_grams) != len(weights):
        raise ValueError("one Gram matrix and one weight per layer")
    loss = np.float64(0.0)
    for g, a, w in zip(target_grams, style_grams, weights):
        n = np.shape(g)[0]
        loss += w * np.sum((np.asarray(g) - np.asarray(a)) ** 2) / (4.0 * n * n)
    return loss


def total_loss(content, style, alpha, beta):
    return alpha * content + beta * style
