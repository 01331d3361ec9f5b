"""Promise 4: bad data is rejected at the boundary, before any training, with a ValueError
naming the problem: in the estimators, in `cr.fit` and on the command line.

(More command-line cases, with exit statuses and file checks, are in tests/cli/test_errors.py;
the array checks themselves in tests/test_data.py; the tabular columns in tests/test_tabular.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)).astype(np.float32)
Y_CLASS = (X[:, 0] > 0).astype(np.int64)
Y_REG = X[:, 0] * 2.0 + 1.0


def _with(a: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    a = a.copy()
    a[index] = value
    return a


# ---------------------------------------------------------------------- the estimators
# (what to change, X, y, the words the message must hold)
DATA_CASES = [
    ("NaN in X", _with(X, (3, 1), np.nan), Y_CLASS, "Input X contains NaN"),
    ("infinity in X", _with(X, (3, 1), np.inf), Y_CLASS, "Input X contains infinity"),
    ("empty X", X[:0], Y_CLASS[:0], "0 sample(s)"),
    ("lengths differ", X, Y_CLASS[:-1], "inconsistent numbers of samples: [40, 39]"),
    ("3-d X", X.reshape(40, 3, 1), Y_CLASS, "dim 3"),
    ("1-d X", X[:, 0], Y_CLASS, "Expected 2D array"),
    ("text in X", np.array([["1", "2", "many"]] * 40), Y_CLASS, "'many'"),
]
TARGET_CASES = [
    ("a single class", X, np.zeros(40, int), "at least 2 classes to learn, got 1 class: 0"),
    ("NaN as a class", X, _with(Y_CLASS.astype(float), (5,), np.nan), "Input y contains NaN"),
]
REG_TARGET_CASES = [
    ("NaN in y", X, _with(Y_REG, (5,), np.nan), "Input y contains NaN"),
    ("infinity in y", X, _with(Y_REG, (5,), np.inf), "Input y contains infinity"),
    ("text as target", X, np.array(["cheap", "dear"] * 20), "'cheap'"),
]
PARAM_CASES = [
    ({"activation": "softsign"}, "activation='softsign' is not valid; choose one of 'relu'"),
    ({"optimizer": "lbfgs"}, "optimizer='lbfgs' is not valid; choose one of 'sgd'"),
    ({"init": "orthogonal"}, "init='orthogonal' is not valid"),
    ({"lr_schedule": "warmup"}, "lr_schedule='warmup' is not valid"),
    ({"dtype": "float16"}, "dtype='float16' is not valid"),
    ({"learning_rate": -0.1}, "learning_rate must be in (0.0, inf), got -0.1"),
    ({"learning_rate": 0.0}, "learning_rate must be in (0.0, inf), got 0.0"),
    ({"learning_rate": float("nan")}, "learning_rate must be a real number"),
    ({"learning_rate": float("inf")}, "learning_rate must be in (0.0, inf)"),
    ({"learning_rate": "fast"}, "learning_rate must be a real number, got 'fast'"),
    ({"epochs": -1}, "epochs must be a positive integer, got -1"),
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"epochs": 2.5}, "epochs must be a positive integer, got 2.5"),
    ({"batch_size": -5}, "batch_size (None = batch gradient descent) must be a positive integer"),
    ({"batch_size": 0}, "must be a positive integer, got 0"),
    ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must contain positive integers"),
    ({"hidden_layer_sizes": "64"}, "hidden_layer_sizes must be a tuple of positive integers"),
    ({"dropout": 1.0}, "dropout must be in [0.0, 1.0), got 1.0"),
    ({"l2": -1e-3}, "l2 must be in [0.0, inf)"),
    ({"l1": float("nan")}, "l1 must be a real number"),
    ({"early_stopping": True, "validation_fraction": 1.0}, "validation_fraction must be in"),
    ({"patience": 0}, "patience must be a positive integer"),
    ({"random_state": -1}, "random_state must be a non-negative integer"),
]


@pytest.mark.parametrize("cls", [cr.MLPClassifier, cr.MLPRegressor])
@pytest.mark.parametrize(("what", "X", "y", "words"), DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_estimators_reject_bad_data_before_building_a_network(cls, what, X, y, words):
    est = cls(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    assert words in str(info.value)
    assert not hasattr(est, "model_")  # nothing was built, nothing trained


CASES = [(cr.MLPClassifier, *c) for c in TARGET_CASES] + [
    (cr.MLPRegressor, *c) for c in REG_TARGET_CASES
]


@pytest.mark.parametrize(("cls", "what", "X", "y", "words"), CASES, ids=[c[1] for c in CASES])
def test_estimators_reject_bad_targets(cls, what, X, y, words):
    est = cls(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    assert words in str(info.value) and not hasattr(est, "model_")


@pytest.mark.parametrize(("params", "words"), PARAM_CASES, ids=[str(c[0]) for c in PARAM_CASES])
def test_estimators_reject_bad_hyperparameters_naming_them(params, words):
    for cls, y in ((cr.MLPClassifier, Y_CLASS), (cr.MLPRegressor, Y_REG)):
        est = cls(hidden_layer_sizes=(4,), epochs=2).set_params(**params)
        with pytest.raises(ValueError) as info:
            est.fit(X, y)
        assert words in str(info.value)
        assert not hasattr(est, "model_")


def test_negative_sample_weights_are_rejected():
    est = cr.MLPRegressor(hidden_layer_sizes=(4,), epochs=2)
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        est.fit(X, Y_REG, sample_weight=_with(np.ones(40), (7,), -1.0))
    assert not hasattr(est, "model_")


PREDICT_CASES = [
    ("too few columns", X[:, :2], "X has 2 features, but MLPClassifier is expecting 3"),
    ("too many columns", np.hstack([X, X]), "X has 6 features"),
    ("3-d X", X.reshape(40, 3, 1), "dim 3"),
    ("NaN", _with(X, (2, 2), np.nan), "Input X contains NaN"),
    ("text", np.array([["1", "2", "x"]]), "'x'"),
    ("no rows", X[:0], "0 sample(s)"),
]


@pytest.mark.parametrize(
    ("what", "X_new", "words"), PREDICT_CASES, ids=[c[0] for c in PREDICT_CASES]
)
def test_prediction_rejects_bad_input(what, X_new, words):
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, Y_CLASS)
    for method in (clf.predict, clf.predict_proba, clf.score):
        with pytest.raises(ValueError) as info:
            method(X_new) if method != clf.score else method(X_new, Y_CLASS[: len(X_new)])
        assert words in str(info.value)


# ---------------------------------------------------------------------- cr.fit
class StepCounter(cr.optim.SGD):
    """SGD that counts its steps: a rejected call must not have taken any."""

    steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


FIT_CASES = [
    ("NaN in X", {"X": _with(X, (3, 1), np.nan)}, "X contains NaN at index (3, 1)"),
    ("inf in X", {"X": _with(X, (0, 2), -np.inf)}, "X contains an infinite value at index (0, 2)"),
    ("empty X", {"X": X[:0], "y": Y_CLASS[:0]}, "X is empty (0 samples)"),
    ("lengths differ", {"y": Y_CLASS[:-1]}, "X has 40 samples but y has 39"),
    ("text in X", {"X": np.array([["1", "2", "x"]] * 40)}, "X must be numeric, got dtype <U1"),
    ("objects in X", {"X": np.array([[1, 2, "x"]] * 40, dtype=object)}, "X must be numeric"),
    ("3-d X", {"X": X.reshape(40, 3, 1)}, "expects inputs with 3 features (last axis)"),
    ("wrong width", {"X": X[:, :2]}, "expects inputs with 3 features (last axis), got"),
    ("labels out of range", {"y": Y_CLASS + 5}, "labels must lie in [0, 2), got 5..6"),
    ("float labels", {"y": Y_CLASS + 0.5}, "labels must be integer class indices"),
    ("epochs -1", {"epochs": -1}, "epochs must be a positive int, got -1"),
    ("epochs 0", {"epochs": 0}, "epochs must be a positive int, got 0"),
    ("epochs 2.5", {"epochs": 2.5}, "epochs must be a positive int, got 2.5"),
    ("batch_size -3", {"batch_size": -3}, "batch_size must be at least 1, got -3"),
    ("batch_size 0", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ("batch_size True", {"batch_size": True}, "batch_size must be a positive int or None"),
    ("validation_split 1.5", {"validation_split": 1.5}, "between 0 and 1 (exclusive), got 1.5"),
    ("validation_data", {"validation_data": X}, "validation_data must be a tuple"),
    (
        "NaN in validation",
        {"validation_data": (_with(X, (1, 1), np.nan), Y_CLASS)},
        "validation X contains NaN at index (1, 1)",
    ),
    ("weights < 0", {"sample_weight": -np.ones(40)}, "sample_weight must be non-negative"),
    ("weights shape", {"sample_weight": np.ones(39)}, "sample_weight must have one entry"),
    ("seed", {"seed": "abc"}, "seed must be an int"),
]


@pytest.mark.parametrize(("what", "change", "words"), FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_fit_rejects_bad_data_before_any_step(what, change, words):
    cr.set_seed(0)
    model = cr.nn.Sequential(cr.nn.Dense(3, 4), cr.nn.Tanh(), cr.nn.Dense(4, 2))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    opt = StepCounter(model.parameters(), lr=0.1)
    args = {"X": X, "y": Y_CLASS, "epochs": 2, "progress": False, **change}
    with pytest.raises(ValueError) as info:
        cr.fit(model, cr.nn.CrossEntropyLoss(), opt, args.pop("X"), args.pop("y"), **args)
    assert words in str(info.value)
    assert opt.steps == 0
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: cr.optim.SGD(p, lr=-0.1), "invalid lr=-0.1: it must be >= 0.0"),
        (lambda p: cr.optim.Adam(p, lr=float("nan")), "lr must be finite, got nan"),
        (lambda p: cr.optim.RMSprop(p, lr=-1), "invalid lr=-1"),
        (lambda p: cr.optim.SGD(p, lr=0.1, momentum=-0.5), "invalid momentum=-0.5"),
        (lambda p: cr.optim.AdamW(p, weight_decay=-1.0), "weight_decay"),
    ],
)
def test_optimizers_reject_bad_settings_when_built(make, words):
    # Zero is a valid learning rate for the optimizers, as in PyTorch (schedules reach it);
    # the estimators and the command line, which take one number, require η > 0.
    model = cr.nn.Sequential(cr.nn.Dense(3, 2))
    with pytest.raises(ValueError) as info:
        make(model.parameters())
    assert words in str(info.value)


# ---------------------------------------------------------------------- the command line
pd = pytest.importorskip("pandas")


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """run(*args) -> (exit status, stdout, stderr), run in `tmp_path`."""
    from chainrule.cli import main

    monkeypatch.chdir(tmp_path)

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "blue"], size=n)
    label = np.where(x1 + (color == "red") > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1.round(3), "x2": x2.round(3), "color": color, "label": label})


FAST = ["--hidden", "4", "--epochs", "3", "--quiet"]


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_wrong_delimiter_is_named_with_the_right_one(cli, tmp_path):
    _table().to_csv(tmp_path / "semi.csv", sep=";", index=False)
    code, _, err = cli("train", "semi.csv", "--target", "label", "--sep", ",", "--out", "m")
    line = _one_line(err)
    assert code == 1
    assert "'semi.csv' reads as a single column 'x1;x2;color;label'" in line
    assert "use --sep ';'" in line
    _table().to_csv(tmp_path / "tabs.csv", sep="\t", index=False)
    code, _, err = cli("train", "tabs.csv", "--target", "label", "--sep", ";", "--out", "m")
    assert code == 1 and "use --sep '\\t'" in _one_line(err)
    assert not (tmp_path / "m").exists()
    # Left to itself, the command detects the delimiter and trains.
    code, _, err = cli("train", "semi.csv", "--target", "label", "--out", "m", *FAST)
    assert code == 0, err


def test_decimal_commas_are_read_as_numbers(cli, tmp_path):
    # Spreadsheets in many locales write "1,5" for 1.5 and separate fields with ";".
    text = _table().to_csv(sep=";", index=False, decimal=",")
    assert ",5" in text or ",1" in text
    (tmp_path / "eu.csv").write_text(text)
    code, out, err = cli("train", "eu.csv", "--target", "label", "--out", "m", "--hidden", "4")
    assert code == 0, err
    assert "2 numeric and 1 categorical columns" in out
    code, out, err = cli("predict", "m", "eu.csv")
    assert code == 0 and len(out.splitlines()) == 61
    # Only the columns that are all decimal-comma numbers change; gaps stay gaps.
    from chainrule.cli.io import read_table

    (tmp_path / "mixed.csv").write_text("a;b;c\n1,5;2.5;x\n;3.5;y\n-0,25;1e3;1,5\n")
    frame = read_table(tmp_path / "mixed.csv")
    np.testing.assert_array_equal(frame["a"], [1.5, np.nan, -0.25])
    np.testing.assert_array_equal(frame["b"], [2.5, 3.5, 1000.0])
    assert list(frame["c"]) == ["x", "y", "1,5"]


def test_missing_values_are_filled_and_reported(cli, tmp_path):
    frame = _table()
    frame.loc[4, "x1"] = np.nan
    frame.loc[9, "color"] = None
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    code, out, err = cli("train", "gaps.csv", "--target", "label", "--out", "m", "--hidden", "4")
    assert code == 0, err
    assert "column 'x1': 1 missing values, filled with the training mean" in out
    code, out, err = cli("predict", "m", "gaps.csv")
    assert code == 0 and len(out.splitlines()) == 61  # a prediction for every row
    assert "'gaps.csv': column 'x1', row 5: missing value(s) filled in as in training" in err
    assert "column 'color', row 10" in err
    assert "Traceback" not in err


def test_a_missing_target_value_is_an_error_naming_the_row(cli, tmp_path):
    frame = _table()
    frame.loc[6, "label"] = None
    frame.to_csv(tmp_path / "t.csv", index=False)
    code, _, err = cli("train", "t.csv", "--target", "label", "--out", "m", *FAST)
    assert code == 1 and "target column 'label'" in err and "row 7" in _one_line(err)


@pytest.mark.parametrize("kind", ["estimator", "network"])
def test_numeric_models_check_columns_and_values(cli, tmp_path, kind):
    model = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(X, Y_CLASS)
    cr.save(model if kind == "estimator" else model.model_, tmp_path / "m")
    pd.DataFrame(X[:, :2]).to_csv(tmp_path / "narrow.csv", index=False)
    code, _, err = cli("predict", "m", "narrow.csv")
    assert code == 1 and "'narrow.csv' has 2 columns; the model takes 3 numbers per row" in err
    rows = pd.DataFrame(X[:5])
    rows.iloc[3, 1] = np.nan
    rows.to_csv(tmp_path / "gap.csv", index=False)
    code, _, err = cli("predict", "m", "gap.csv")
    assert code == 1 and "'gap.csv', row 4: missing or infinite value" in _one_line(err)
    rows = pd.DataFrame(X[:5]).astype(object)
    rows.iloc[2, 0] = "oops"
    rows.to_csv(tmp_path / "text.csv", index=False)
    code, _, err = cli("predict", "m", "text.csv")
    assert code == 1 and "row 3: 'oops' is not a number" in _one_line(err)


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--epochs", "-1", "must be a positive whole number, got -1"),
        ("--epochs", "0", "must be a positive whole number, got 0"),
        ("--epochs", "2.5", "'2.5' is not a whole number"),
        ("--lr", "0", "must be > 0, got 0"),
        ("--lr", "nan", "'nan' is not a finite number"),
        ("--batch-size", "-3", "must be a positive whole number, got -3"),
        ("--l2", "-1", "must be >= 0"),
        ("--validation-fraction", "1", "must be in [0, 1)"),
        ("--patience", "0", "must be a positive whole number"),
        ("--dtype", "float16", "invalid choice: 'float16'"),
        ("--init", "orthogonal", "invalid choice: 'orthogonal'"),
    ],
)
def test_bad_option_values_are_usage_errors(cli, tmp_path, option, value, words):
    _table().to_csv(tmp_path / "d.csv", index=False)
    code, _, err = cli("train", "d.csv", "--target", "label", "--out", "m", option, value)
    line = _one_line(err)
    assert code == 2 and f"argument {option}" in line and words in line
    assert not (tmp_path / "m").exists()
