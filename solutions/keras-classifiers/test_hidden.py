"""Hidden tests for keras-classifiers.

Architecture: the learner's models, as the sandbox described them (JSON config; their layer
tables read by the size walker, and rebuilt in Keras's safe mode only where those differ:
`check_layer_table`), are compared layer by layer (class, output shape, parameters) with the reference's;
activations and compile settings have tests of their own. class_weight_dict is compared with
what the README fixes: one float weight per label that occurs (int keys), inversely proportional
to the label's count (scikit-learn's "balanced" n / (k * count_c), or the same up to one factor
for all classes, such as the notes' sum / count).

Held-out scores: train_weighted trains the learner's models in the sandbox on the training
splits of scikit-learn's iris and breast-cancer sets and of an imbalanced subset of breast cancer
(`grader.data.tabular`: drawn with the grading's secret `heldout_seed`, features standardised
with the training split's statistics); only training rows enter the sandbox. The trained models
come back as data and predict the held-out rows on the trusted side (`grader.exercise.heldout`);
accuracy and the minority class's recall are computed here against exercise.toml's [threshold]
(`score_metric`). The imbalanced subset keeps two weakly separating features and thins the
malignant class to 10% of the training rows: where the classes overlap, a model trained without
class weights rarely calls the rare class (see `measured` in exercise.toml).

Each test costs one property's points. Messages never show an expected value beyond what the
README states."""

import numpy as np
import pytest

from grader.data.tabular import imbalanced_task, minority_class, tabular_task
from grader.exercise import heldout
from grader.modelcheck import (builds_fixture, check_layer_table, compile_settings, expect_history, layer_configs,
                               reference_layer_table, loss_name, metric_names, model_from, score_metric,
                               trained_fixture)
from grader.testing import Feedback, expect_dict, expect_number, points

TRAIN_SECONDS = 30  # the README promises each training this much time (on CPU)
IMBALANCED_FEATURES = ("mean texture", "mean smoothness")  # the README names them
MINORITY_SHARE = 0.10

builds = builds_fixture()
trained_iris = trained_fixture()
trained_cancer = trained_fixture()
trained_imbalanced = trained_fixture()


@pytest.fixture(scope="module")
def tasks(heldout_seed):
    """This grading's splits: the training rows go to the sandbox, the held-out rows never."""
    return {"iris": tabular_task("iris", heldout_seed), "breast_cancer": tabular_task("breast_cancer", heldout_seed),
            "imbalanced": imbalanced_task("breast_cancer", heldout_seed, MINORITY_SHARE, IMBALANCED_FEATURES)}


def _built(submission, builds, name, arg):
    """The learner's `name(arg)` as the sandbox described it; one sandbox call per grading and
    arguments (the trained models are built on their own: two of them may share arguments)."""
    return builds((name, arg), lambda: model_from(getattr(submission, name), f"{name}({arg})", arg))


def _activations(ref, what):
    return [config.get("activation") for kind, config in layer_configs(ref, what) if kind == "Dense"]


def _train(submission, trained, task, build_name, arg):
    return trained(lambda: model_from(getattr(submission, build_name), f"{build_name}({arg})", arg),
                   lambda model: submission.train_weighted(model, task.x_train, task.y_train))


def _predicted_classes(result, task, exercise, what):
    model = result.model.trained() if result.model.session is not None else result.model
    if task.num_classes == 2:
        out = heldout.predict(model, task.x_test, exercise.caps, what, output_shape=(1,))
        return (out[:, 0] > 0.5).astype(np.int64)
    out = heldout.predict(model, task.x_test, exercise.caps, what, outputs=task.num_classes)
    return np.argmax(out, axis=1)


def _record_history(result, record):
    try:
        record("history", expect_history(result.history, "train_weighted(model, X, y)"))
    except Feedback:
        pass  # a malformed history does not cost the score


@points(2)
def test_iris_layer_table(submission, reference, exercise, builds):
    for hidden in (16, 8, 32):
        check_layer_table(_built(submission, builds, "build_iris_classifier", hidden),
                          reference_layer_table(reference.build_iris_classifier, hidden),
                          f"build_iris_classifier({hidden})", exercise.caps)


@points(1)
def test_iris_activations_relu_then_softmax(submission, builds):
    acts = _activations(_built(submission, builds, "build_iris_classifier", 16), "build_iris_classifier(16)")
    if len(acts) != 2:
        raise Feedback(f"build_iris_classifier(16) should have 2 Dense layers, but it has {len(acts)}")
    assert acts[0] == "relu", "the hidden Dense layer of build_iris_classifier(16) should use activation='relu'"
    assert acts[1] == "softmax", (
        "the output Dense(3) of build_iris_classifier(16) should use activation='softmax' (one probability per species)")


@points(1)
def test_iris_compiled_with_sparse_categorical_crossentropy(submission, builds):
    ref = _built(submission, builds, "build_iris_classifier", 16)
    settings = compile_settings(ref, "build_iris_classifier(16)")
    name = loss_name(settings)
    assert name == "sparse_categorical_crossentropy", (
        f"build_iris_classifier(16) is compiled with the loss {name or 'None'!r}; the labels are the integers 0, 1, 2, "
        "which go with loss='sparse_categorical_crossentropy'")
    assert any("acc" in m for m in metric_names(settings)), (
        "build_iris_classifier(16) is compiled without an accuracy metric; pass metrics=['accuracy']")


@points(2)
def test_binary_classifier_layer_table(submission, reference, exercise, builds):
    for n in (30, 2, 5):
        check_layer_table(_built(submission, builds, "build_binary_classifier", n),
                          reference_layer_table(reference.build_binary_classifier, n),
                          f"build_binary_classifier({n})", exercise.caps)


@points(1)
def test_binary_classifier_ends_with_one_sigmoid(submission, builds):
    acts = _activations(_built(submission, builds, "build_binary_classifier", 30), "build_binary_classifier(30)")
    assert acts and acts[-1] == "sigmoid", (
        "the output Dense(1) of build_binary_classifier(30) should use activation='sigmoid' (the probability of class 1)")
    assert all(a == "relu" for a in acts[:-1]), "the hidden Dense layer of build_binary_classifier(30) should use 'relu'"


@points(1)
def test_binary_classifier_compiled_with_binary_crossentropy(submission, builds):
    ref = _built(submission, builds, "build_binary_classifier", 30)
    settings = compile_settings(ref, "build_binary_classifier(30)")
    name = loss_name(settings)
    assert name == "binary_crossentropy", (
        f"build_binary_classifier(30) is compiled with the loss {name or 'None'!r}; a sigmoid output and labels 0/1 go "
        "with loss='binary_crossentropy'")
    assert any("acc" in m for m in metric_names(settings)), (
        "build_binary_classifier(30) is compiled without an accuracy metric; pass metrics=['accuracy']")


def _weights(submission, y, what):
    value = submission.class_weight_dict(np.asarray(y, dtype=np.int64))
    if not isinstance(value, dict):
        raise Feedback(f"{what} should return a dict {{label: weight}}, but it returned {type(value).__name__}")
    labels = sorted(int(v) for v in np.unique(y))
    if any(not isinstance(k, int) for k in value):
        raise Feedback(f"{what}: the keys should be the labels as integers (Keras 3 looks the labels up in the dict), "
                       f"e.g. int(c), not {type(next(iter(value))).__name__}")
    if sorted(value) != labels:
        raise Feedback(f"{what} should have one key per label that occurs in y, {labels}; it has {sorted(value)}")
    out = expect_dict(value, what)
    return {k: expect_number(v, f"{what}[{k}]") for k, v in out.items()}


@points(1)
def test_class_weight_dict_has_one_int_key_per_label(submission):
    rng = np.random.default_rng(1234)
    for y in (np.repeat([0, 1, 2], [30, 5, 15]), rng.permutation(np.repeat([0, 1], [90, 10])), np.array([3, 3, 7, 7, 7])):
        weights = _weights(submission, y, f"class_weight_dict(y) for labels {sorted(set(y.tolist()))}")
        assert all(w > 0 for w in weights.values()), "class_weight_dict(y): every weight should be positive"


@points(2)
def test_class_weight_dict_inversely_proportional_to_counts(submission):
    rng = np.random.default_rng(4321)
    cases = (np.repeat([0, 1, 2], [30, 5, 15]), rng.permutation(np.repeat([0, 1], [90, 10])),
             np.repeat([0, 1, 2, 3], [1, 2, 4, 8]), np.repeat([0, 1], [40, 40]))
    for y in cases:
        what = f"class_weight_dict(y) for class counts {np.bincount(y).tolist()}"
        weights = _weights(submission, y, what)
        counts = np.bincount(y)
        products = np.array([weights[c] * counts[c] for c in range(len(counts))], dtype=np.float64)
        if not np.all(np.isfinite(products)) or not np.allclose(products, products[0], rtol=1e-4):
            raise Feedback(f"{what}: the weights are not inversely proportional to the class counts (a class twice as "
                           "rare should weigh twice as much); use n / (k * count_c)")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_iris_held_out_accuracy(submission, tasks, trained_iris, exercise, record):
    task = tasks["iris"]
    result = _train(submission, trained_iris, task, "build_iris_classifier", 16)
    _record_history(result, record)
    predicted = _predicted_classes(result, task, exercise, "your trained build_iris_classifier(16) model")
    score_metric(record, name="accuracy", value=float(np.mean(predicted == task.y_test)),
                 threshold=float(exercise.extra["threshold"]["iris"]), lower_is_better=False, dataset="iris",
                 seconds=result.seconds, device=submission.device, what="your iris classifier")


@points(2)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_breast_cancer_held_out_accuracy(submission, tasks, trained_cancer, exercise, record):
    task = tasks["breast_cancer"]
    result = _train(submission, trained_cancer, task, "build_binary_classifier", task.n_features)
    _record_history(result, record)
    predicted = _predicted_classes(result, task, exercise, f"your trained build_binary_classifier({task.n_features}) model")
    score_metric(record, name="accuracy", value=float(np.mean(predicted == task.y_test)),
                 threshold=float(exercise.extra["threshold"]["breast_cancer"]), lower_is_better=False,
                 dataset="breast_cancer", seconds=result.seconds, device=submission.device,
                 what="your binary classifier")


@points(3)
@pytest.mark.seconds(TRAIN_SECONDS)
def test_minority_class_recall_on_an_imbalanced_subset(submission, tasks, trained_imbalanced, exercise, record):
    task = tasks["imbalanced"]
    result = _train(submission, trained_imbalanced, task, "build_binary_classifier", task.n_features)
    _record_history(result, record)
    predicted = _predicted_classes(result, task, exercise, f"your trained build_binary_classifier({task.n_features}) model")
    rare = minority_class(task.y_train)
    recall = float(np.mean(predicted[task.y_test == rare] == rare))
    try:
        score_metric(record, name="minority-class recall", value=recall,
                     threshold=float(exercise.extra["threshold"]["imbalanced"]), lower_is_better=False,
                     dataset="breast cancer with 10% malignant", seconds=result.seconds, device=submission.device,
                     what="your binary classifier")
    except Feedback as err:
        raise Feedback(f"{err}. Without class weights a model trained on few rare examples seldom predicts the rare "
                       "class: train_weighted should call model.fit(..., class_weight=class_weight_dict(y))") from None
