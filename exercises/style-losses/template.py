# This file was generated from the reference solution by `dlgrade templates`.
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
    raise NotImplementedError("write your code here")


def content_loss(target, content):
    """The content loss of lecture 004, the mean squared error between the generated image's
    features `target` and the content image's features `content` (same shape):
    mean((target - content) ** 2), a float. (Gatys et al.'s 1/2 * sum((target - content) ** 2)
    is accepted too.) Raise ValueError when the shapes differ.
    """
    raise NotImplementedError("write your code here")


def style_loss(target_grams, style_grams, weights):
    """The style loss: for each layer l, the mean squared difference of the two Gram matrices,
    weighted by weights[l] and added up:
    sum over l of weights[l] * mean((target_grams[l] - style_grams[l]) ** 2), a float.
    The three arguments are lists of the same length (one Gram matrix or weight per layer).
    (Gatys et al.'s 1 / (4 N^2) * sum(...) per layer, a quarter of the mean, is accepted too.)
    Raise ValueError when the lists have different lengths.
    """
    raise NotImplementedError("write your code here")


def total_loss(content, style, alpha, beta):
    """The loss the generated image minimizes: alpha * content + beta * style, a float
    (alpha weighs the content loss, beta the style loss)."""
    raise NotImplementedError("write your code here")
