"""Hidden tests for the gradient-descent exercise: descent on other polynomials against the update
rule computed here with the same function (`Surface.grad` on the trusted side), a diverging rate
reported as it is, step-by-step agreement with `keras.optimizers.SGD(momentum=...)` on a bowl,
the saddle and Rosenbrock's valley, `InverseTimeDecay` and `ReduceLROnPlateau` run here, on the
trusted side. Rates and momenta are powers of two (exact in Keras' float32), so the comparisons
can be tight. Messages never show an expected value."""

import functools

import numpy as np

from grader.testing import Surface, error_summary, expect_array, expect_number, points


@functools.lru_cache(maxsize=1)
def _keras():
    from grader.exercise.frameworks import import_keras_quietly
    import_keras_quietly()  # no framework start-up lines on the terminal
    import keras
    return keras


def _close(got, want, rtol, atol=0.0) -> bool:
    """got ~ want; looser when Keras could only compute in float32 (a backend without float64)."""
    if np.asarray(want).dtype == np.float32:
        rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)
    return bool(np.allclose(got, np.asarray(want, dtype=float), rtol=rtol, atol=atol))


def _descent(surface, x0, lr, steps):
    xs = [float(x0)]
    for _ in range(steps):
        xs.append(xs[-1] - lr * surface.grad(xs[-1]))
    return np.array(xs)


def _keras_sgd(surface, w0, lr, momentum, steps):
    """Keras' SGD iterates, in the dtype Keras ran them in (float64 where the backend has it)."""
    keras = _keras()
    var = keras.Variable(np.array(w0, dtype=float), dtype="float64")
    opt = keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    out = [np.asarray(keras.ops.convert_to_numpy(var))]
    for _ in range(steps):
        g = keras.ops.convert_to_tensor(np.asarray(surface.grad(keras.ops.convert_to_numpy(var)), dtype=float))
        opt.apply_gradients([(g, var)])
        out.append(np.asarray(keras.ops.convert_to_numpy(var)))
    return np.stack(out)


RULE = "v = momentum * v - lr * grad(w), then w = w + v, with v starting at 0"


def _momentum(submission, surface, w0, lr, m, steps, what, finite=True):
    return expect_array(submission.sgd_momentum(surface, w0, lr, m, steps), what,
                        shape=(steps + 1,) + np.shape(w0), dtype_kind="f", finite=finite)


@points(2)
def test_descent_on_other_polynomials(submission):
    for coeffs, x0, lr, steps in (([1.0, -3.0, 0.5], 7.0, 0.25, 12), ([0.0, 1.0, -1.5, 0.0, 0.25], -0.5, 0.0625, 40),
                                  ([2.0, 0.0, 3.0], -1.25, 0.125, 9)):
        f = Surface.polynomial(coeffs)
        what = f"gradient_descent(polynomial {coeffs}, x0={x0}, lr={lr}, steps={steps})"
        got = expect_array(submission.gradient_descent(f, x0, lr, steps), what, shape=(steps + 1,), dtype_kind="f")
        want = _descent(f, x0, lr, steps)
        assert np.allclose(got, want, rtol=1e-9, atol=1e-12), (
            f"{what} departs from x_(k+1) = x_k - lr * grad(x_k) ({error_summary(got, want)})")


@points(1)
def test_descent_returns_steps_plus_one_iterates_from_x0(submission):
    f = Surface.polynomial([0.0, 0.0, 1.0])
    for steps in (0, 1, 5):
        got = expect_array(submission.gradient_descent(f, 0.75, 0.25, steps),
                           f"gradient_descent(grad of x^2, x0=0.75, lr=0.25, steps={steps})", shape=(steps + 1,), dtype_kind="f")
        assert got[0] == 0.75, f"the first iterate must be x0 itself (steps={steps})"


@points(2)
def test_a_diverging_rate_is_reported_not_clamped(submission):
    # f(x) = 2 x^2: x_{k+1} = x_k (1 - 4 lr); lr = 0.75 gives a factor -2, so |x| doubles at each step
    f = Surface.polynomial([0.0, 0.0, 2.0])
    got = expect_array(submission.gradient_descent(f, 0.5, 0.75, 40), "gradient_descent(grad of 2x^2, x0=0.5, lr=0.75, steps=40)",
                       ndim=1, dtype_kind="f", finite=False)
    assert got.shape == (41,), (
        f"a diverging descent returned {got.shape[0]} iterates for 40 steps; return all steps + 1 of them "
        "(no early stop when the iterates grow)")
    want = _descent(f, 0.5, 0.75, 40)
    assert np.all(np.isfinite(got)) and np.allclose(got, want, rtol=1e-12), (
        f"with a rate that is too large the iterates must keep growing (a factor -2 per step here), as they are: "
        f"no clamp, no early stop ({error_summary(got, want) if np.all(np.isfinite(got)) else 'non-finite values'})")


@points(2)
def test_momentum_matches_keras_sgd_on_a_bowl(submission):
    w0 = np.array([1.5, -2.0, 0.25])
    got = _momentum(submission, Surface.bowl(0.5), w0, 0.125, 0.875, 30,
                    "sgd_momentum(grad of 0.5 sum(w^2), w0 of shape (3,), lr=0.125, momentum=0.875, steps=30)")
    want = _keras_sgd(Surface.bowl(0.5), w0, 0.125, 0.875, 30)
    assert _close(got, want, rtol=1e-9, atol=1e-12), (
        f"sgd_momentum departs from keras.optimizers.SGD(momentum=...) ({error_summary(got, want)}): {RULE}")


@points(2)
def test_momentum_matches_keras_sgd_on_rosenbrock(submission):
    f, w0 = Surface.rosenbrock(1.0, 100.0), np.array([-1.25, 1.5])
    got = _momentum(submission, f, w0, 2.0 ** -11, 0.75, 60,
                    "sgd_momentum(grad of Rosenbrock, w0=[-1.25, 1.5], lr=2^-11, momentum=0.75, steps=60)")
    want = _keras_sgd(f, w0, 2.0 ** -11, 0.75, 60)
    assert _close(got, want, rtol=1e-8, atol=1e-10), (
        f"sgd_momentum on Rosenbrock's valley departs from Keras' SGD ({error_summary(got, want)}): {RULE}")


@points(1)
def test_momentum_leaves_the_saddle(submission):
    f, w0 = Surface.saddle(), np.array([1.0, 1e-3])
    got = _momentum(submission, f, w0, 0.0625, 0.5, 25, "sgd_momentum(grad of x^2 - y^2, w0=[1, 0.001], lr=0.0625, momentum=0.5, steps=25)")
    want = _keras_sgd(f, w0, 0.0625, 0.5, 25)
    assert _close(got, want, rtol=1e-9, atol=1e-12), (
        f"sgd_momentum on the saddle x^2 - y^2 departs from Keras' SGD ({error_summary(got, want)}): {RULE}")


@points(1)
def test_momentum_0_is_plain_descent(submission):
    f = Surface.bowl(2.0)
    got = _momentum(submission, f, 3.0, 0.0625, 0.0, 10, "sgd_momentum(grad of 2x^2, 3.0, lr=0.0625, momentum=0, steps=10)")
    want = _descent(f, 3.0, 0.0625, 10)
    assert np.allclose(got, want, rtol=1e-12), (
        f"with momentum 0 SGD is plain gradient descent ({error_summary(got, want)}): {RULE}")


@points(1)
def test_momentum_keeps_the_shape_of_w(submission):
    w0 = np.arange(6.0).reshape(2, 3) - 2.5
    got = _momentum(submission, Surface.bowl(), w0, 0.125, 0.5, 4, "sgd_momentum(grad of sum(w^2), w0 of shape (2, 3), steps=4)")
    want = _keras_sgd(Surface.bowl(), w0, 0.125, 0.5, 4)
    assert _close(got, want, rtol=1e-12), (
        f"sgd_momentum for a (2, 3) weight matrix is wrong ({error_summary(got, want)}): {RULE}, elementwise")


@points(2)
def test_inverse_time_decay_matches_keras(submission):
    keras = _keras()
    for lr0, decay in ((0.5, 0.25), (0.03125, 0.001953125), (1.0, 2.0)):
        schedule = keras.optimizers.schedules.InverseTimeDecay(lr0, decay_steps=1, decay_rate=decay)
        for step in (0, 1, 7, 100, 12345):
            got = expect_number(submission.inverse_time_decay(lr0, decay, step), f"inverse_time_decay({lr0}, {decay}, {step})")
            want = float(keras.ops.convert_to_numpy(schedule(step)))
            assert np.isclose(got, want, rtol=1e-6), (
                f"inverse_time_decay({lr0}, {decay}, {step}) differs from Keras' InverseTimeDecay "
                f"({abs(got - want):.3g} off): lr0 / (1 + decay * step)")


def _keras_plateau(losses, lr0, factor, patience):
    keras = _keras()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr0), loss="mse")
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=factor, patience=patience, min_delta=0.0,
                                           cooldown=0, min_lr=0.0, verbose=0)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, loss in enumerate(losses):
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        cb.on_epoch_end(epoch, {"val_loss": float(loss)})
    return np.array(rates)


@points(3)
def test_reduce_on_plateau_matches_keras(submission):
    rng = np.random.default_rng(17)
    for factor, patience in ((0.1, 1), (0.5, 2), (0.25, 3)):
        steps = rng.choice([-0.1, -0.05, 0.0, 0.02, 0.07], size=24)
        losses = (2.0 + np.cumsum(steps)).round(6).tolist()
        what = f"reduce_on_plateau(24 losses, 0.5, factor={factor}, patience={patience})"
        got = expect_array(submission.reduce_on_plateau(losses, 0.5, factor=factor, patience=patience), what,
                           shape=(24,), dtype_kind="f")
        want = _keras_plateau(losses, 0.5, factor, patience)
        assert np.allclose(got, want, rtol=1e-6), (
            f"{what} differs from keras.callbacks.ReduceLROnPlateau ({error_summary(got, want)}): a loss equal to the "
            "best is not an improvement, the count of bad epochs restarts after each reduction, and the new rate "
            "applies from the next epoch")
