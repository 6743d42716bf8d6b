"""Public tests for transfer-learning. The base's layer table is the notes' network (004's
emnistnet) at their 28x28, with the 5 outputs of build_base((28, 28, 1)) (the digits 0-4):

    Conv2D              (None, 28, 28, 6)   60      = (3*3*1 + 1) * 6
    BatchNormalization  (None, 28, 28, 6)   24      = 4 * 6 (gamma, beta, moving mean, moving variance)
    Activation          (None, 28, 28, 6)   0
    MaxPooling2D        (None, 14, 14, 6)   0
    Conv2D              (None, 14, 14, 6)   330     = (3*3*6 + 1) * 6
    BatchNormalization  (None, 14, 14, 6)   24
    Activation          (None, 14, 14, 6)   0
    MaxPooling2D        (None, 7, 7, 6)     0
    Flatten             (None, 294)         0       the notes' fc1 in_features=294
    Dense               (None, 50)          14,750  = 294 * 50 + 50
    Dense               (None, 5)           255     = 50 * 5 + 5            15,443 in all

(the notes' own head has 26 outputs, their letters: 1,326 parameters, 16,514 in all).

Then the head and the freezing on an untrained base, and the whole recipe on training digits: a
base trained on 1,000 digits 0-4, its head replaced and frozen, fine-tuned on 10 digits of each
of 5-9 and scored on 200 other training digits 5-9 (the hidden tests train on more digits 0-4 and
score held-out digits 5-9 that you never see). The fine-tuning calls
train_base(model, x, y, epochs=40); if your train_base has no epochs parameter, it calls
train_base(model, x, y) again until it has trained 40 epochs (as the hidden tests do)."""

import time

import numpy as np
import pytest

from grader.data import digit_task
from grader.modelcheck import (accuracy, class_predictions, expect_history, expect_model, layer_rows, model_from,
                               rebuild)
from grader.testing import Feedback, SubmissionRaised, points

NOTES_TABLE = [
    ("Conv2D", (28, 28, 6), 60),
    ("BatchNormalization", (28, 28, 6), 24),
    ("Activation", (28, 28, 6), 0),
    ("MaxPooling2D", (14, 14, 6), 0),
    ("Conv2D", (14, 14, 6), 330),
    ("BatchNormalization", (14, 14, 6), 24),
    ("Activation", (14, 14, 6), 0),
    ("MaxPooling2D", (7, 7, 6), 0),
    ("Flatten", (294,), 0),
    ("Dense", (50,), 14750),
    ("Dense", (5,), 255),
]
VALIDATION_BAR = 0.6  # 200 training digits 5-9 after fine-tuning on 50; the hidden threshold is in exercise.toml
SHAPE = (16, 16, 1)
FINE_TUNE_EPOCHS = 40
MAX_FINE_TUNE_CALLS = 40  # a train_base without `epochs` is called again at most this often


def _trainable_is_the_head(model) -> bool:
    head = {id(w) for w in model.layers[-1].trainable_weights}
    return bool(head) and {id(w) for w in model.trainable_weights} == head


def _epochs_in(history) -> int:
    """The epochs a train_base call reports (its history's loss list), at least 1."""
    try:
        return max(1, len(expect_history(history, "train_base(model, x, y)")["loss"]))
    except Feedback:
        return 1


def _fine_tune(submission, model, x, y) -> None:
    """train_base(model, x, y, epochs=40); where train_base takes no `epochs`, train_base(model,
    x, y) again until its histories add up to 40 epochs."""
    try:
        submission.train_base(model, x, y, epochs=FINE_TUNE_EPOCHS)
        return
    except SubmissionRaised as err:
        if not (err.is_a("TypeError") and "unexpected keyword argument" in err.message and "'epochs'" in err.message):
            raise
    done = 0
    for _ in range(MAX_FINE_TUNE_CALLS):
        done += _epochs_in(submission.train_base(model, x, y))
        if done >= FINE_TUNE_EPOCHS:
            return


@points(3)
def test_layer_table_of_the_notes(submission):
    what = "build_base((28, 28, 1))"
    model = rebuild(model_from(submission.build_base, what, (28, 28, 1)), what)
    rows = [r for r in layer_rows(model) if r.kind != "InputLayer"]
    if len(rows) != len(NOTES_TABLE):
        raise Feedback(f"{what} has {len(rows)} layers; the table has {len(NOTES_TABLE)}: "
                       + ", ".join(k for k, _, _ in NOTES_TABLE) + "\nyour layers: " + ", ".join(r.kind for r in rows))
    for i, (row, (kind, shape, params)) in enumerate(zip(rows, NOTES_TABLE), start=1):
        assert (row.kind, row.output_shape, row.params) == (kind, shape, params), (
            f"layer {i} of {what} is {row}; the table has {kind} {shape} {params:,} params")


@points(2)
def test_replace_head_and_freeze_base(submission):
    base = model_from(submission.build_base, "build_base((16, 16, 1))", SHAPE)
    new = expect_model(submission.replace_head(base, 3), "replace_head(model, 3)")
    model = rebuild(new, "replace_head(model, 3)")
    out = tuple(int(d) for d in model.outputs[0].shape[1:])
    assert out == (3,), f"replace_head(model, 3) outputs shape {out}; it should output (3,)"
    frozen = submission.freeze_base(new)
    frozen = new if frozen is None else expect_model(frozen, "freeze_base(model)")
    model = rebuild(frozen.trained(), "freeze_base(model)")
    names = [w.path for w in model.trainable_weights]
    assert _trainable_is_the_head(model), (
        f"after freeze_base(model) only the head (the last Dense layer) should be trainable; trainable: {names}")


@points(3)
@pytest.mark.seconds(90)
def test_transfer_learns_the_new_digits(submission, record, hoda):
    old, new = digit_task("transfer-base-16", hoda), digit_task("transfer-new-16", hoda)
    base = model_from(submission.build_base, "build_base((16, 16, 1))", SHAPE)
    submission.train_base(base, old.x_train[:1000], old.y_train_onehot[:1000])
    model = expect_model(submission.replace_head(base, 5), "replace_head(model, 5)")
    frozen = submission.freeze_base(model)
    model = model if frozen is None else expect_model(frozen, "freeze_base(model)")
    rng = np.random.default_rng(0)
    few = np.concatenate([rng.permutation(np.flatnonzero(new.y_train == c))[:10] for c in range(5)])
    others = np.setdiff1d(np.arange(len(new.y_train)), few)[:200]
    t0 = time.monotonic()
    _fine_tune(submission, model, new.x_train[few], new.y_train_onehot[few])
    seconds = time.monotonic() - t0
    acc = accuracy(class_predictions(model.predict(new.x_train[others]), len(others), 5), new.y_train[others])
    record("metric", {"name": "accuracy", "value": acc, "threshold": VALIDATION_BAR, "lower_is_better": False,
                      "dataset": f"{new.dataset} 5-9 (validation)", "seconds": seconds, "device": submission.device})
    assert acc >= VALIDATION_BAR, (
        f"after fine-tuning on 50 digits 5-9 ({seconds:.0f} s) your model classifies {acc:.1%} of {len(others)} other "
        f"digits 5-9 correctly; at least {VALIDATION_BAR:.0%} is expected here (is the base trained, its weights "
        "kept by replace_head, and the head compiled with Adam(learning_rate=0.01)?)")
