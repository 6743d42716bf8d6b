"""Held-out thresholds are scored on the trusted side (issue 8, part A; findings 2 and 5).

The sandbox trains on the training split only and hands back the trained model; the trusted side
refuses a model over the exercise's caps before allocating anything (grader.exercise.modelsize), then
predicts the held-out inputs itself in a limited child (grader.exercise.heldout). The held-out subset is
drawn with a course's secret seed; scikit-learn's bundled data sets are not readable inside the
sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import HOSTILE_DIR, REPO, sandbox_processes
from grader.data import hoda_available, hoda_dir
from grader.sandbox.uids import FIRST_UID
from grader.grading.engine import grade
from grader.exercise.heldout import HeldOutPredictorFault, predict
from grader.exercise.modelsize import Caps, ModelRefused, check_caps, model_size
from grader.exercise.spec import find_exercise
from grader.exercise.testing import Feedback, GraderFault
from grader.sandbox.inside.wire import ModelRef

KERAS_EXERCISES = ("keras-mlp", "lenet", "vgg")
SLOT = 23  # this file's gradings run under their own uid, so other tests' sandboxes never count
HELD_OUT_TESTS = {"keras-mlp": ["test_held_out_accuracy"], "lenet": ["test_held_out_accuracy"],
                  "vgg": ["test_small_vgg_learns_digits"]}
# The course's Hoda folder, resolved here as the CLI resolves it for a person at a terminal (conftest
# points $DLGRADE_HODA_DIR at shared/datasets/hoda) and given to each grading: a grading never reads it
# from the environment itself.
HODA = hoda_dir() if hoda_available() else None


def _dense_config(units: int, inputs: int = 25, classes: int = 10, build_inputs: int | None = None) -> str:
    """A Sequential config Input(inputs) -> Dense(units) -> Dense(classes), written by hand (no Keras)."""
    def dense(name, n, fan_in):
        return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                "config": {"name": name, "units": n, "activation": "relu", "use_bias": True},
                "build_config": {"input_shape": [None, fan_in]}}
    return json.dumps({"module": "keras", "class_name": "Sequential", "config": {
        "name": "sequential", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, inputs],
                                                                               "name": "input_layer"}},
            dense("dense", units, build_inputs or inputs), dense("dense_1", classes, units)],
        "build_input_shape": [None, inputs]}})


# ------------------------------------------------------------------------------------------------
# model sizes from the config alone
# ------------------------------------------------------------------------------------------------


def test_model_size_counts_a_config_without_keras():
    size = model_size(_dense_config(64))
    assert (size.params, size.output_shape) == (25 * 64 + 64 + 64 * 10 + 10, (10,))
    assert size.activations == 25 + 64 + 10 and size.macs == 25 * 64 + 64 * 10


def test_model_size_matches_keras_on_the_course_models():
    import importlib.util
    spec = importlib.util.spec_from_file_location("vgg_reference", REPO / "solutions" / "vgg" / "solution.py")
    vgg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vgg)
    import keras
    from keras import layers
    inputs = keras.Input(shape=(12, 10, 3))
    a = layers.Conv2D(4, 3, strides=2, padding="valid")(inputs)
    a = layers.ZeroPadding2D(((1, 0), (0, 1)))(a)
    b = layers.AveragePooling2D(2)(inputs)
    b = layers.Conv2D(4, 1)(b)
    merged = layers.Concatenate()([a, layers.BatchNormalization()(b)])
    out = layers.Dense(3, activation="softmax")(layers.Dropout(0.2)(layers.GlobalAveragePooling2D()(merged)))
    models = [vgg.build_vgg16(), vgg.build_vgg_small((32, 32, 1), 10, widths=(16, 32)), keras.Model(inputs, out)]
    for model in models:
        size = model_size(model.to_json())
        assert size.params == model.count_params(), model.name
        assert size.output_shape == tuple(model.outputs[0].shape[1:]), model.name
    assert model_size(models[0].to_json()).params == 138_357_544  # within vgg's caps, over the default
    check_caps(models[0].to_json(), find_exercise("vgg").caps)
    with pytest.raises(ModelRefused, match="138,357,544 parameters, over this exercise's limit"):
        check_caps(models[0].to_json(), Caps())


def test_an_unknown_layer_kind_is_refused_by_name():
    config = json.loads(_dense_config(8))
    config["config"]["layers"][1]["class_name"] = "Lambda"
    with pytest.raises(ModelRefused, match="layer kind Lambda .*'dense'.* build the model from the course's layers"):
        check_caps(json.dumps(config), Caps())


def test_a_config_that_builds_bigger_layers_than_its_graph_is_refused():
    """build_config is what Keras allocates a layer's weights from: it must agree with the graph."""
    with pytest.raises(ModelRefused, match="declares the input shape .*inconsistent"):
        model_size(_dense_config(8, inputs=25, build_inputs=6_000_000))


def test_caps_in_exercise_toml_are_validated(tmp_path):
    assert find_exercise("vgg").caps.max_params >= 138_357_544 > find_exercise("keras-mlp").caps.max_params
    with pytest.raises(ValueError, match="unknown key 'max_parms'"):
        Caps.from_table({"max_parms": 3}, "exercise.toml")
    with pytest.raises(ValueError, match="max_params must be a positive number"):
        Caps.from_table({"max_params": -1}, "exercise.toml")


def test_a_giant_config_is_refused_before_allocation_and_memory_stays_small():
    """Finding 5: Dense(6_000_000) made the trusted rebuild take 5.3 GB. In a fresh process (so the
    figure is this rebuild's own): refused with the learner's message, peak memory barely moves."""
    code = r"""
import json, resource, sys
import keras
from grader.exercise.modelcheck import rebuild
from grader.exercise.testing import Feedback
from grader.sandbox.inside.wire import ModelRef
config = sys.argv[1]
keras.ops.zeros((2, 2))  # the framework fully started
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    rebuild(ModelRef(1, "m", config, None, []), "build_mlp()")
    print(json.dumps({"refused": None}))
except Feedback as err:
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"refused": str(err), "grew_mb": (after - before) / 1024}))
"""
    proc = subprocess.run([sys.executable, "-c", code, _dense_config(6_000_000)], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["refused"] and "150,000,064" not in answer["refused"]
    assert "parameters, over this exercise's limit" in answer["refused"], answer
    assert "nothing was allocated" in answer["refused"]
    assert answer["grew_mb"] < 50, answer


# ------------------------------------------------------------------------------------------------
# the trusted predictor child
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    import keras
    from keras import layers
    model = keras.Sequential([keras.Input(shape=(25,)), layers.Dense(16, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    return model, ModelRef(1, "m", model.to_json(), None, model.get_weights())


def test_the_predictor_child_predicts_like_the_model(small_model):
    model, ref = small_model
    x = np.random.default_rng(0).random((50, 25), dtype=np.float32)
    got = predict(ref, x, Caps())
    assert got.shape == (50, 10) and np.allclose(got, model.predict(x, verbose=0), atol=1e-6)


def _ref(model) -> ModelRef:
    return ModelRef(1, "m", model.to_json(), None, model.get_weights())


def test_a_learners_model_that_does_not_fit_the_held_out_data_is_the_learners_problem_not_a_grader_fault():
    """Each of these once made the predictor fail and the grading a grader fault (retried, never
    graded): a learner could dodge a grade with them."""
    import keras
    from keras import layers
    x = np.zeros((40, 25), np.float32)
    three_d = keras.Sequential([keras.Input(shape=(25,)), layers.Dense(10, activation="softmax"),
                                layers.Reshape((10, 1))])
    with pytest.raises(Feedback, match=r"outputs shape \(10, 1\).*should output 10 numbers"):
        predict(_ref(three_d), x, Caps(), outputs=10)
    wrong_input = keras.Sequential([keras.Input(shape=(30,)), layers.Dense(10, activation="softmax")])
    with pytest.raises(Feedback, match=r"takes inputs of shape \(30,\).*held-out inputs have shape \(25,\)"):
        predict(_ref(wrong_input), x, Caps(), outputs=10)
    # 22 parameters and within the activation cap, but 256 examples at a time would not fit in memory
    # and 1,000 would take too long: the batch is sized to the predictor, the total work is bounded
    images = np.zeros((40, 32, 32, 1), np.float32)
    wide = keras.Sequential([keras.Input(shape=(32, 32, 1)), layers.UpSampling2D((31, 31)),
                             layers.Conv2D(1, 1, activation="relu"), layers.GlobalAveragePooling2D(),
                             layers.Dense(10, activation="softmax")])
    out = predict(_ref(wide), images, Caps(max_activations=2_000_000, predict_memory_mb=4096), outputs=10)
    assert out.shape == (40, 10)
    heavy = keras.Sequential([keras.Input(shape=(32, 32, 1)), layers.UpSampling2D((8, 8)),
                              layers.Conv2D(64, 3, padding="same"), layers.Conv2D(64, 3, padding="same"),
                              layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")])
    with pytest.raises(Feedback, match="too many to predict"):
        predict(_ref(heavy), np.zeros((1000, 32, 32, 1), np.float32),
                Caps(max_activations=100_000_000, max_macs=10**12), outputs=10)


def test_odd_compile_settings_are_the_learners_problem():
    from grader.exercise.modelcheck import compile_settings, loss_name, metric_names
    for bad in ('{"loss": "mse", "metrics": 5}', '[1, 2]', '{"loss": 3}', '{"metrics": [1]}'):
        with pytest.raises(Feedback, match="compile settings"):
            compile_settings(ModelRef(1, "m", "{}", bad, []))
    good = compile_settings(ModelRef(1, "m", "{}", '{"loss": "categorical_crossentropy", "metrics": ["accuracy"]}', []))
    assert loss_name(good) == "categorical_crossentropy" and metric_names(good) == ["accuracy"]


def _predictor_servers() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "grader.exercise.heldout --serve"], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_the_predictor_server_is_kept_across_predictions_and_replaced_when_it_dies(small_model):
    import grader.exercise.heldout as heldout
    model, ref = small_model
    x = np.random.default_rng(1).random((20, 25), dtype=np.float32)
    heldout.close_server()
    heldout.warm_up()  # spawned: this process has run Keras ops, so it is not forked from it
    server = heldout._local.server
    assert server is not None and server.pid in _predictor_servers()
    for _ in range(2):
        assert np.allclose(predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
    heldout.discard_warm()  # the end of a grading: a working server stays for the next one
    assert heldout._local.server is server and server.alive()
    os.kill(server.pid, 9)
    server.proc.wait()
    assert np.allclose(predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)  # a new server
    assert heldout._local.server is not server and heldout._local.server.alive()
    heldout.close_server()
    assert server.pid not in _predictor_servers()


FORKED_SERVER = """
import json, os, sys, numpy as np
from grader.exercise.frameworks import import_keras_quietly
from grader.exercise import heldout
from grader.exercise.modelsize import Caps
from grader.sandbox.inside.wire import ModelRef
assert import_keras_quietly()
heldout.fork_server()  # right after the import, before any op
server = heldout._local.server
assert server is not None and server.proc is None, "not forked"
import keras
from keras import layers
model = keras.Sequential([keras.Input(shape=(25,)), layers.Dense(8, activation="relu"),
                          layers.Dense(10, activation="softmax")])
ref = ModelRef(1, "m", model.to_json(), None, model.get_weights())
x = np.random.default_rng(2).random((30, 25), dtype=np.float32)
import time
heldout.warm_up()  # the server forks its next child now; it starts the Keras runtime and waits
for _ in range(100):
    children = open(f"/proc/{server.pid}/task/{server.pid}/children").read().split()
    if children:
        break
    time.sleep(0.05)
assert len(children) == 1, children
warm_pid = int(children[0])
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
assert not os.path.exists(f"/proc/{warm_pid}/status") or "zombie" in open(f"/proc/{warm_pid}/status").read()
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)  # no warm child: forked now
try:
    heldout.predict(ref, x, Caps(predict_memory_mb=1))
except heldout.HeldOutPredictorFault as err:
    assert "memory limit 1 MB" in str(err), err
else:
    raise AssertionError("no fault at 1 MB over what the child inherited")
assert heldout._local.server is server and server.alive()  # a child died, its server did not
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
# warmed with the config of the model being trained, a child rebuilds it ahead and loads the
# trained weights at the prediction; a prediction of another model never gets that prebuilt one
answers = []
run_request = heldout._run_request
def spy(server, folder, *args):
    out = run_request(server, folder, *args)
    answers.append(json.loads((folder / "result.json").read_text()))
    return out
heldout._run_request = spy
other = keras.Sequential([keras.Input(shape=(25,)), layers.Dense(4, activation="relu"),
                          layers.Dense(10, activation="softmax")])
other_ref = ModelRef(2, "o", other.to_json(), None, other.get_weights())
heldout.warm_up(ref.config)
assert np.allclose(heldout.predict(other_ref, x, Caps()), other.predict(x, verbose=0), atol=1e-6)
heldout.warm_up(other_ref.config)
heldout.warm_up(ref.config)  # the child warmed for `other` (its prediction never came) is replaced
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
heldout.warm_up("{not a model")
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
heldout.warm_up(ref.config, Caps(max_params=10))  # over the exercise's caps: never built ahead
assert np.allclose(heldout.predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
assert [a["prebuilt"] for a in answers] == [False, True, False, False], answers
print("forked", server.pid, os.getpid())
"""


def test_a_server_forked_after_the_keras_import_predicts_and_outlives_a_child_that_dies(tmp_path):
    done = subprocess.run([sys.executable, "-c", FORKED_SERVER], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    server_pid = int(done.stdout.split()[-2])
    time.sleep(0.5)  # the server ends with its process (its request pipe closes)
    assert not Path(f"/proc/{server_pid}").exists() or "zombie" in Path(f"/proc/{server_pid}/status").read_text()


def test_a_predictor_killed_at_its_memory_limit_is_a_grader_fault(small_model):
    _, ref = small_model
    # the budget is on top of the address space the child inherited from its server
    with pytest.raises(HeldOutPredictorFault, match="memory limit 1 MB") as info:
        predict(ref, np.zeros((4, 25), np.float32), Caps(predict_memory_mb=1))
    assert isinstance(info.value, GraderFault) and not isinstance(info.value, Feedback)


def test_a_predictor_past_its_time_is_killed_and_a_grader_fault(small_model):
    import keras
    from keras import layers
    import grader.exercise.heldout as heldout
    model, ref = small_model
    slow = keras.Sequential([keras.Input(shape=(64, 64, 8)), layers.Conv2D(64, 3, padding="same"),
                             layers.Conv2D(64, 3, padding="same"), layers.GlobalAveragePooling2D(),
                             layers.Dense(10, activation="softmax")])  # seconds for 400 images on a CPU
    caps = Caps(max_activations=10**7, max_macs=10**12, predict_seconds=0.5)
    t0 = time.monotonic()
    with pytest.raises(HeldOutPredictorFault, match="ran past its 0.5 s"):
        predict(_ref(slow), np.zeros((400, 64, 64, 8), np.float32), caps, outputs=10)
    assert time.monotonic() - t0 < 30
    server = heldout._local.server  # its child was killed; the server serves the next prediction
    x = np.random.default_rng(3).random((5, 25), dtype=np.float32)
    assert np.allclose(predict(ref, x, Caps()), model.predict(x, verbose=0), atol=1e-6)
    assert heldout._local.server is server


def test_a_model_over_the_caps_or_without_weights_is_the_learners_problem(small_model):
    _, ref = small_model
    with pytest.raises(Feedback, match="over this exercise's limit of 100"):
        predict(ref, np.zeros((4, 25), np.float32), Caps(max_params=100))
    bare = ModelRef(1, "m", ref.config, None, [])
    with pytest.raises(Feedback, match="came back without its weights"):
        predict(bare, np.zeros((4, 25), np.float32), Caps())
    wrong = ModelRef(1, "m", ref.config, None, [w[:1] for w in ref.weights])
    with pytest.raises(Feedback, match="weights do not match"):
        predict(wrong, np.zeros((4, 25), np.float32), Caps())


def test_the_held_out_predictor_and_the_model_checks_do_not_import_each_other():
    """rebuild is below both: the predictor child never loads the model checks, nor they it lazily."""
    import ast

    def imports(name):
        tree = ast.parse((REPO / "grader" / "exercise" / f"{name}.py").read_text())
        found = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        found |= {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                  for a in n.names}
        return found | {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    for low in ("heldout", "rebuild"):
        assert not {"grader.exercise.modelcheck", "grader.modelcheck", "grader.exercise.keras_tasks"} & imports(low), low
    assert "grader.exercise.rebuild" in imports("modelcheck")


def test_framework_start_up_lines_never_reach_the_terminal():
    """The trusted side of a Keras grading imports Keras with its start-up notes kept off fd 2."""
    code = ("import numpy as np; from grader.exercise.frameworks import import_keras_quietly as q; assert q(); "
            "import keras; keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).predict(np.zeros((1, 3)), "
            "verbose=0)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "GLOG_", "GRPC_"))}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-2000:]


# ------------------------------------------------------------------------------------------------
# the held-out seed
# ------------------------------------------------------------------------------------------------


def test_the_held_out_subset_is_drawn_by_the_secret_seed():
    from grader.data import digit_task
    a, b, a_again = (digit_task("mlp-5x5", heldout_seed=s) for s in (12345, 67890, 12345))
    assert np.array_equal(a.x_test, a_again.x_test)
    assert not np.array_equal(a.x_test, b.x_test)
    public = digit_task("mlp-5x5")
    assert not np.array_equal(a.x_test, public.x_test)
    if a.dataset == "hoda":  # the calibrated training subset stays the preset's
        assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.x_train, public.x_train)


def test_init_keeps_the_seed_instructor_only_and_the_release_never_has_it(tmp_path):
    from grader.batch.run import Task
    from grader.course.config import HELDOUT_SEED_FILE, init_course
    from grader.course.paths import heldout_seed
    from grader.course.bundle import build_bundle
    course = init_course(tmp_path / "course", "c1")
    path = course.solutions_dir / HELDOUT_SEED_FILE
    seed = heldout_seed(course)
    assert path.stat().st_mode & 0o777 == 0o600 and course.solutions_dir.stat().st_mode & 0o777 == 0o700
    assert seed == heldout_seed(course) and seed > 2**20
    other = init_course(tmp_path / "other", "c2")
    assert heldout_seed(other) != seed  # a secret per course
    bundle = build_bundle(course, course.root / "release")
    released = [p for p in Path(bundle).rglob("*") if p.is_file()]
    assert released and not any(p.name == HELDOUT_SEED_FILE for p in released)
    assert not any(str(seed).encode() in p.read_bytes() for p in released)
    assert "heldout_seed" in Task.__dataclass_fields__  # batch tasks carry it to the workers


def test_bundled_data_sets_are_masked_or_warned_about(monkeypatch):
    import shutil
    from grader.sandbox.commands import bundled_data_dirs
    from grader.sandbox.probe import probe
    assert any(p.endswith(os.path.join("sklearn", "datasets", "data")) for p in bundled_data_dirs())
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "bwrap" else "/usr/bin/" + name)
    prot = probe.__wrapped__()
    assert not prot.namespaces
    assert any("data sets bundled with scikit-learn" in w for w in prot.warnings)


# ------------------------------------------------------------------------------------------------
# whole gradings
# ------------------------------------------------------------------------------------------------


def _by_name(result):
    return {t.name: t for t in result.tests}


def test_a_learner_who_never_trains_gets_nothing_for_accuracy():
    """Finding 2: rebuilding the held-out split inside the sandbox and answering `predict` with the
    true labels scored 16/16. Now the trusted side predicts with the (untrained) weights: 0 on the
    threshold, every other property scored as usual, and no grader fault."""
    from grader.sandbox.probe import probe
    ex = find_exercise("keras-mlp")
    result = grade(ex, HOSTILE_DIR / "keras_mlp_never_trains.py", "hidden", slot=SLOT, heldout_seed=4242,
                   hoda_dir=HODA)
    tests = _by_name(result)
    held = tests["test_held_out_accuracy"]
    assert held.score == 0 and held.status == "failed", held
    assert "held-out accuracy" in held.output and "needed" in held.output
    others = [t for n, t in tests.items() if n != "test_held_out_accuracy"]
    assert all(t.status == "passed" for t in others), [(t.name, t.output) for t in others if t.status != "passed"]
    assert result.score == result.max_score - held.max_score
    assert not result.extra_data.get("internal_errors")
    if probe().namespaces:
        assert "MASKED" in result.output and "LEAKED" not in result.output
    deadline = time.monotonic() + 5
    while sandbox_processes(FIRST_UID + SLOT) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sandbox_processes(FIRST_UID + SLOT) == [], "a sandbox process outlived its grading"


def test_a_giant_model_description_is_refused_with_a_clear_message():
    ex = find_exercise("keras-mlp")
    result = grade(ex, HOSTILE_DIR / "keras_mlp_giant_config.py", "hidden", slot=SLOT, heldout_seed=1, hoda_dir=HODA)
    tests = _by_name(result)
    for name in ("test_build_mlp_returns_a_built_keras_model", "test_layer_table_for_25_inputs",
                 "test_held_out_accuracy"):
        assert tests[name].score == 0 and tests[name].status == "failed", tests[name]
        assert "over this exercise's limit of 1,000,000" in tests[name].output, tests[name].output
    assert tests["test_train_mlp_returns_the_history"].status == "passed"
    assert not result.extra_data.get("internal_errors") and not result.grader_fault


PRESETS = {"keras-mlp": "mlp-5x5", "lenet": "lenet-32", "vgg": "vgg-32"}


def _arrays(value, out):
    if isinstance(value, np.ndarray):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _arrays(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _arrays(v, out)
    return out


@pytest.mark.parametrize("exercise_id", KERAS_EXERCISES)
def test_each_keras_reference_gets_full_marks_and_no_held_out_input_enters_the_sandbox(exercise_id, monkeypatch):
    from grader.data import digit_task
    from grader.grading.plugin import SandboxSession
    sent = []
    original = SandboxSession._request

    def spy(self, header, payload, *args, **kwargs):
        _arrays(payload, sent)
        return original(self, header, payload, *args, **kwargs)

    monkeypatch.setattr(SandboxSession, "_request", spy)
    ex = find_exercise(exercise_id)
    result = grade(ex, ex.solution, "hidden", slot=SLOT, heldout_seed=20260, hoda_dir=HODA)
    failed = [(t.name, t.output) for t in result.tests if t.status != "passed"]
    assert failed == [] and result.score == result.max_score == ex.points["hidden"]
    metric = result.extra_data["artifacts"][HELD_OUT_TESTS[exercise_id][0]]["metric"]
    assert metric["accuracy"] >= metric["threshold"]
    held_out = digit_task(PRESETS[exercise_id], HODA, heldout_seed=20260).x_test
    rows = {r.tobytes() for r in held_out.astype(np.float32)}
    seen = set()
    for a in sent:
        if a.ndim == held_out.ndim and a.shape[1:] == held_out.shape[1:]:
            seen |= {r.tobytes() for r in a.astype(np.float32)} & rows
    assert len(seen) <= 0.01 * len(rows), f"{len(seen)} of {len(rows)} held-out inputs were sent to the sandbox"


def test_a_model_the_tests_share_is_built_once_per_grading_and_its_failure_is_the_same_for_each():
    from grader.modelcheck import OnceEach
    calls = []

    def build(value):
        calls.append(value)
        if value == "broken":
            raise Feedback("build_mlp() returned a model that is not built")
        return value

    once = OnceEach()
    assert once(("a",), lambda: build("a")) == "a" and once(("a",), lambda: build("a")) == "a"
    for _ in range(2):
        with pytest.raises(Feedback, match="not built"):
            once(("b",), lambda: build("broken"))
    assert calls == ["a", "broken"]
    assert OnceEach()(("a",), lambda: build("a")) == "a" and calls == ["a", "broken", "a"]  # a new grading builds again
