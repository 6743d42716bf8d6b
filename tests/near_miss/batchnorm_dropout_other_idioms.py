"""A correct batchnorm-dropout learner written in other idioms its README allows: the variance as
E[x^2] - E[x]^2 on a reshaped (m, d) view, the backward pass through the computational graph
(dvar, dmu), dropout drawing a Bernoulli keep mask with rng.binomial and multiplying by
1 / keep_prob. It must get full marks."""

import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.99, eps=1e-3, training=True):
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1, x.shape[-1])
    if training:
        mu = flat.mean(axis=0)
        var = np.mean(flat ** 2, axis=0) - mu ** 2
        rm = running_mean * momentum + mu * (1 - momentum)
        rv = running_var * momentum + var * (1 - momentum)
    else:
        mu, var, rm, rv = running_mean, running_var, np.array(running_mean, float), np.array(running_var, float)
    y = (flat - mu) / np.sqrt(var + eps) * gamma + beta
    return y.reshape(x.shape), np.asarray(rm, dtype=float), np.asarray(rv, dtype=float)


def batchnorm_backward(dy, x, gamma, eps=1e-3):
    x = np.asarray(x, dtype=float)
    shape = x.shape
    x = x.reshape(-1, shape[-1])
    dy = np.asarray(dy, dtype=float).reshape(x.shape)
    m = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    x_hat = xc / std
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dx_hat = dy * gamma
    dvar = np.sum(dx_hat * xc, axis=0) * -0.5 * std ** -3
    dmu = np.sum(-dx_hat / std, axis=0) + dvar * np.mean(-2.0 * xc, axis=0)
    dx = dx_hat / std + dvar * 2.0 * xc / m + dmu / m
    return dx.reshape(shape), dgamma, dbeta


def dropout(x, rate, seed, training):
    x = np.asarray(x, dtype=float)
    if not training:
        return x
    keep_prob = 1.0 - rate
    mask = np.random.default_rng(seed).binomial(1, keep_prob, size=x.shape)
    return x * mask * (1.0 / keep_prob)


def l2_penalty(weights, lam):
    return lam * sum(float((w ** 2).sum()) for w in map(np.asarray, weights))
