"""`cr.save` / `cr.load`: round trips predict identically; hostile files raise ModelFileError."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import nn
from chainrule.saving.archive import read_archive, write_archive
from chainrule.saving.modelfile import MODEL_VERSION
from killkit import kill_a_writer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 4)).astype(np.float32)


def every_layer_net(dtype=np.float32) -> nn.Module:
    net = nn.Sequential(
        nn.Dense(4, 8, dtype=dtype),
        nn.BatchNorm(8, momentum=0.2, eps=1e-4, dtype=dtype),
        nn.LeakyReLU(0.05),
        nn.Dropout(0.25),
        nn.Sequential(nn.Dense(8, 6, bias=False, dtype=dtype), nn.Tanh()),
        nn.Dense(6, 5, dtype=dtype),
        nn.Sigmoid(),
        nn.Identity(),
        nn.Dense(5, 3, dtype=dtype),
        nn.ReLU(),
        nn.Softmax(axis=1),
    )
    net(cr.Tensor(X.astype(dtype)))  # training mode: the running statistics move
    return net.eval()


def forward(net: nn.Module, x: np.ndarray) -> np.ndarray:
    with cr.no_grad():
        return net(cr.Tensor(x)).data


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_module_round_trip(tmp_path, dtype):
    net = every_layer_net(dtype)
    cr.save(net, tmp_path / "net")
    again = cr.load(tmp_path / "net")
    assert repr(again) == repr(net)
    assert again.training is False
    for (k, a), (k2, b) in zip(net.state_dict().items(), again.state_dict().items(), strict=True):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    x = X.astype(dtype)
    np.testing.assert_array_equal(forward(again, x), forward(net, x))


@pytest.mark.parametrize(
    "layer",
    [
        nn.BatchNorm(4, momentum=None),
        nn.BatchNorm(4, affine=False),
        nn.BatchNorm1d(4, track_running_stats=False),
        nn.BatchNorm1d(4, 1e-3, None, False, False),
    ],
    ids=repr,
)
def test_batch_norm_options_round_trip(tmp_path, layer):
    for _ in range(3):
        layer(cr.Tensor(X))
    cr.save(layer, tmp_path / "m")
    loaded = cr.load(tmp_path / "m")
    assert repr(loaded) == repr(layer)
    assert (loaded.momentum, loaded.affine, loaded.track_running_stats) == (
        layer.momentum,
        layer.affine,
        layer.track_running_stats,
    )
    assert loaded.state_dict().keys() == layer.state_dict().keys()
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], value)
    np.testing.assert_array_equal(forward(loaded.eval(), X), forward(layer.eval(), X))


def test_files_from_before_the_batch_norm_options_still_load(tmp_path):
    """Older files hold no affine / track_running_stats record and no batch counter."""
    net = every_layer_net()
    arrays, meta = saved(tmp_path, net)
    assert arrays["1.num_batches_tracked"] == 1
    old_arrays = {k: v for k, v in arrays.items() if k != "1.num_batches_tracked"}
    old_meta = json.loads(json.dumps(meta))
    for key in ("affine", "track_running_stats"):
        del old_meta["network"]["layers"][1][key]
    loaded = cr.load(rewrite(tmp_path, old_arrays, old_meta))
    np.testing.assert_array_equal(forward(loaded, X), forward(net, X))
    assert loaded[1].num_batches_tracked == 0


def test_single_layer_and_training_mode_round_trip(tmp_path):
    layer = nn.Dense(4, 2)
    cr.save(layer, tmp_path / "d")
    again = cr.load(tmp_path / "d")
    assert type(again) is nn.Dense and again.training is True
    np.testing.assert_array_equal(forward(again, X), forward(layer, X))


LABELS = {
    "strings": np.array(["no", "yes", "maybe"])[RNG.integers(0, 3, 60)],
    "ints": RNG.integers(-1, 2, 60) * 7,
    "bools": RNG.normal(size=60) > 0,
    "floats": RNG.choice([0.0, 1.0, 2.0], 60),  # whole numbers: continuous ones are no labels
    "objects": np.array(["a", "b"], dtype=object)[RNG.integers(0, 2, 60)],
}


@pytest.mark.parametrize("kind", list(LABELS))
def test_classifier_round_trip(tmp_path, kind):
    y = LABELS[kind]
    clf = cr.MLPClassifier(
        hidden_layer_sizes=(8,),
        epochs=4,
        random_state=0,
        batch_norm=True,
        dropout=0.1,
        early_stopping=True,
    ).fit(X, y)
    cr.save(clf, tmp_path / "clf")
    again = cr.load(tmp_path / "clf")
    assert type(again) is cr.MLPClassifier
    assert again.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(again.classes_, clf.classes_)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.get_params() == {**clf.get_params(), "callbacks": None}
    assert again.loss_curve_ == clf.loss_curve_ and again.n_iter_ == clf.n_iter_
    assert again.validation_scores_ == clf.validation_scores_
    assert again.history_.history == clf.history_.history


def test_multilabel_and_dataframe_classifier_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    Y = (X[:, :3] > 0).astype(int)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = cr.MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=1).fit(frame, Y)
    cr.save(clf, tmp_path / "m")
    again = cr.load(tmp_path / "m")
    assert again.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(again.predict(frame), clf.predict(frame))


def test_regressor_round_trip_and_training_continues(tmp_path):
    Y = np.stack([X[:, 0] - X[:, 1], X[:, 2]], axis=1)
    reg = cr.MLPRegressor(
        hidden_layer_sizes=(8, 4),
        epochs=3,
        random_state=0,
        dtype="float64",
        activation="tanh",
        loss="mse",
    ).fit(X, Y)
    cr.save(reg, tmp_path / "r")
    again = cr.load(tmp_path / "r")
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    assert again.model_[0].weight.data.dtype == np.float64
    before = again.predict(X)
    again.partial_fit(X, Y)  # a loaded estimator can go on learning
    assert not np.array_equal(again.predict(X), before)


def test_unfitted_estimator_round_trip(tmp_path):
    est = cr.MLPRegressor(hidden_layer_sizes=(3, 2), learning_rate=0.05, random_state=4)
    cr.save(est, tmp_path / "u")
    again = cr.load(tmp_path / "u")
    assert not hasattr(again, "model_")
    assert again.get_params() == est.get_params()


def test_tabular_model_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    from chainrule.data.tabular import TabularModel, TabularPreprocessor

    frame = pd.DataFrame({"x": X[:, 0], "c": np.where(X[:, 1] > 0, "p", "n")})
    prep = TabularPreprocessor().fit(frame)
    y = np.where(X[:, 0] + (X[:, 1] > 0) > 0.5, "hi", "lo")
    est = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0)
    est.fit(prep.transform(frame), y)
    model = TabularModel(est, prep, task="classification", target="level", info={"note": "x"})
    cr.save(model, tmp_path / "t")
    again = cr.load(tmp_path / "t")
    assert isinstance(again, TabularModel) and again.target == "level"
    assert again.info == {"note": "x"}
    np.testing.assert_array_equal(again.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(again.predict(frame), model.predict(frame))


def test_unsupported_objects_are_refused_and_nothing_is_written(tmp_path):
    class Custom(nn.Module):
        def forward(self, x):
            return x

    class MyDense(nn.Dense):  # a subclass could compute something else: refused too
        pass

    for obj in (Custom(), nn.Sequential(nn.Dense(2, 2), MyDense(2, 2)), object(), "model"):
        with pytest.raises(ValueError, match="cannot save"):
            cr.save(obj, tmp_path / "x")
    clf = cr.MLPClassifier(hidden_layer_sizes=(2,), epochs=1).fit(X, LABELS["ints"])
    clf.classes_ = np.array([(1, 2), (3,), (4,)], dtype=object)  # not JSON scalars
    with pytest.raises(ValueError, match="labels"):
        cr.save(clf, tmp_path / "x")
    assert os.listdir(tmp_path) == []


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "m"
    cr.save(nn.Dense(4, 2), path)
    old = path.read_bytes()
    with pytest.raises(ValueError):
        cr.save(nn.Sequential(nn.Dense(4, 2), object.__new__(type("X", (nn.Module,), {}))), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m"]


# ---------------------------------------------------------------------------- hostile files
def saved(tmp_path, obj=None) -> tuple[dict, dict]:
    path = tmp_path / "good"
    cr.save(obj if obj is not None else every_layer_net(), path)
    return read_archive(path)


def rewrite(tmp_path, arrays, meta, name="bad"):
    path = tmp_path / name
    write_archive(path, arrays, meta)
    return path


def test_foreign_files(tmp_path):
    cases = {
        "empty": b"",
        "text.json": json.dumps({"kind": "chainrule-model"}).encode(),
        "pickle.pkl": pickle.dumps({"weights": [1, 2, 3]}),
        "random": RNG.bytes(4096),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "plain.npz", weight=np.ones(3))
    np.save(tmp_path / "bare.npy", np.ones(3))
    write_archive(tmp_path / "ckpt", {"x": np.ones(2)}, {"kind": "chainrule-checkpoint"})
    for name in [*cases, "plain.npz", "bare.npy"]:
        with pytest.raises(cr.ModelFileError):
            cr.load(tmp_path / name)
    with pytest.raises(cr.ModelFileError, match="pickle"):
        cr.load(tmp_path / "pickle.pkl")
    with pytest.raises(cr.ModelFileError, match="checkpoint"):
        cr.load(tmp_path / "ckpt")
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "missing")


def test_newer_format_is_refused_with_upgrade_advice(tmp_path):
    arrays, meta = saved(tmp_path)
    meta["model_version"] = MODEL_VERSION + 1
    with pytest.raises(cr.ModelFileError, match=r"newer chainrule.*upgrade"):
        cr.load(rewrite(tmp_path, arrays, meta))


def test_truncated_files(tmp_path):
    path = tmp_path / "good"
    cr.save(every_layer_net(), path)
    data = path.read_bytes()
    for cut in np.linspace(0, len(data) - 1, 40).astype(int):
        (tmp_path / "cut").write_bytes(data[:cut])
        with pytest.raises(cr.ModelFileError):
            cr.load(tmp_path / "cut")


def test_bit_flips_give_an_error_or_a_working_model(tmp_path):
    path = tmp_path / "good"
    cr.save(every_layer_net(), path)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    for _ in range(200):
        flipped = bytearray(data)
        i = int(rng.integers(len(data)))
        flipped[i] ^= 1 << int(rng.integers(8))
        (tmp_path / "flip").write_bytes(bytes(flipped))
        try:
            net = cr.load(tmp_path / "flip")
        except cr.ModelFileError as exc:
            assert str(exc)
        else:  # the zip's CRCs make this rare; the model must still run
            assert forward(net, X).shape == (60, 3)


def _mutate(meta: dict, path: list, value) -> dict:
    meta = json.loads(json.dumps(meta))
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return meta


HOSTILE = [
    (["network", "type"], "os.system"),
    (["network", "type"], "__import__"),
    (["network", "layers", 0, "type"], "Conv2d"),
    (["network", "layers", 0, "in_features"], 10**9),  # weights in the file are 4 x 8
    (["network", "layers", 0, "out_features"], -3),
    (["network", "layers", 0, "bias"], "yes"),
    (["network", "layers", 1, "eps"], "nan"),
    (["network", "layers", 1, "eps"], 1e400),  # JSON reads it as infinity
    (["network", "layers", 1, "momentum"], 2.0),
    (["network", "layers", 1, "affine"], "no"),
    (["network", "layers", 1, "affine"], False),  # weights the layer would not use
    (["network", "layers", 1, "track_running_stats"], 0),
    (["network", "layers", 3, "rate"], 1.5),
    (["network", "layers"], "Dense"),
    (["network"], None),
    (["content"], "pickle"),
    (["model_version"], "1"),
    (["network", "layers", 4, "layers", 0, "bias"], True),  # a bias the file does not hold
]


@pytest.mark.parametrize(("path", "value"), HOSTILE, ids=[str(h) for h in HOSTILE])
def test_hostile_descriptions(tmp_path, path, value):
    arrays, meta = saved(tmp_path)
    with pytest.raises(cr.ModelFileError):
        cr.load(rewrite(tmp_path, arrays, _mutate(meta, path, value)))


def test_hostile_weights(tmp_path):
    arrays, meta = saved(tmp_path)
    cases = [
        {k: v for k, v in arrays.items() if k != "0.weight"},  # missing
        {**arrays, "0.weight": np.ones((8, 5), np.float32)},  # wrong shape
        {**arrays, "0.weight": np.ones((8, 4), np.int32)},  # not floating point
        {**arrays, "99.weight": np.ones(2, np.float32)},  # belongs to no layer
        {**arrays, "1.num_batches_tracked": np.array(-1)},  # not a count
        {**arrays, "1.num_batches_tracked": np.array(1.5)},
        {**arrays, "1.num_batches_tracked": np.array([1, 2])},
    ]
    for arrays_case in cases:
        with pytest.raises(cr.ModelFileError):
            cr.load(rewrite(tmp_path, arrays_case, meta))


def test_deep_nesting_is_refused(tmp_path):
    arrays, meta = saved(tmp_path, nn.Dense(4, 2))
    spec = meta["network"]
    for _ in range(100):
        spec = {"type": "Sequential", "layers": [spec]}
    meta["network"] = spec
    renamed = {"0." * 100 + k: v for k, v in arrays.items()}
    with pytest.raises(cr.ModelFileError, match="nested"):
        cr.load(rewrite(tmp_path, renamed, meta))


ESTIMATOR_HOSTILE = [
    (["estimator", "class"], "subprocess.Popen"),
    (["estimator", "params", "activation"], "evil"),
    (["estimator", "params", "random_state"], -1),
    (["estimator", "params"], []),
    (["estimator", "fitted", "n_outputs_"], 5),
    (["estimator", "fitted", "n_features_in_"], 7),
    (["estimator", "fitted", "dtype"], "object"),
    (["estimator", "fitted", "classes"], {"dtype": "object", "values": [[1], [2], [3]]}),
    (["estimator", "fitted", "classes"], {"dtype": "<U3", "values": [1, 2, 3]}),
    (["estimator", "fitted", "classes"], {"dtype": "|O", "values": ["a", "b", "c"]}),
    (["estimator", "fitted", "classes", "values"], ["a", "b"]),
    (["estimator", "fitted", "feature_names_in_"], ["a"]),
]


@pytest.mark.parametrize(
    ("path", "value"), ESTIMATOR_HOSTILE, ids=[str(h) for h in ESTIMATOR_HOSTILE]
)
def test_hostile_estimator_descriptions(tmp_path, path, value):
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0)
    clf.fit(X, LABELS["strings"])
    arrays, meta = saved(tmp_path, clf)
    with pytest.raises(cr.ModelFileError):
        cr.load(rewrite(tmp_path, arrays, _mutate(meta, path, value)))


def test_estimator_files_with_stray_or_forged_module_arrays_are_refused(tmp_path):
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0)
    arrays, meta = saved(tmp_path, clf.fit(X, LABELS["strings"]))
    stray = {**arrays, "estimator.module.0.weight": np.ones((4, 4), np.float32)}
    with pytest.raises(cr.ModelFileError, match="no part of the estimator uses"):
        cr.load(rewrite(tmp_path, stray, meta))
    net = cr.NeuralNetRegressor(nn.Sequential(nn.Dense(4, 1)), epochs=1)
    arrays, meta = saved(tmp_path, net)
    for bad in ("os.system", {"network": {"type": "Exec"}}):
        forged = _mutate(meta, ["estimator", "params", "module"], bad)
        with pytest.raises(cr.ModelFileError):
            cr.load(rewrite(tmp_path, arrays, forged))
    missing = {k: v for k, v in arrays.items() if not k.endswith("weight")}
    with pytest.raises(cr.ModelFileError):
        cr.load(rewrite(tmp_path, missing, meta))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(tree, prefix=()):
    yield list(prefix)
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, (*prefix, i))


@given(data=st.data())
def test_fuzzed_descriptions_never_crash(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0, batch_norm=True)
    clf.fit(X, LABELS["strings"])
    arrays, meta = saved(tmp_path, clf)
    paths = [p for p in _paths(meta) if p]
    path = data.draw(st.sampled_from(paths))
    meta = _mutate(meta, path, data.draw(JSON))
    file = rewrite(tmp_path, arrays, meta)
    try:
        model = cr.load(file)
    except cr.ModelFileError as exc:
        assert str(exc)
    else:  # a harmless change (a note, a number in the history): the model still works
        assert model.predict(X).shape == (60,)


# ---------------------------------------------------------------------------- crashes
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_saves_never_leave_a_half_written_file(tmp_path):
    path = tmp_path / "model"

    def save(k: int) -> None:
        net = cr.nn.Sequential(cr.nn.Dense(300, 300), cr.nn.ReLU(), cr.nn.Dense(300, 10))
        for p in net.parameters():
            p.data[...] = k
        cr.save(net, path)

    rng = np.random.default_rng(2)
    kills = 0
    for _ in range(8):
        kill_a_writer(tmp_path, save, float(rng.uniform(0.0, 0.3)))  # after one save finished
        kills += 1
        net = cr.load(path)  # the old or the new version, never a mixture
        weights = [p.data for p in net.parameters()]
        assert len({float(w.flat[0]) for w in weights}) == 1
        assert all((w == w.flat[0]).all() for w in weights)
    assert kills == 8
    strays = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    for stray in strays:  # a kill mid-write may leave a temporary file beside the target
        assert stray.startswith(".model.")
