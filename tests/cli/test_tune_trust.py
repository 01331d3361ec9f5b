"""``chainrule tune`` scores what ``chainrule train`` delivers (issue: trust in tuning).

A trial is a ``train`` run: the same split, preprocessing fitted on the training rows only,
the estimator's early stopping, scored on the restored best weights. Trial 0 is the settings
given, and the printed ``train`` command repeats the best trial bit for bit.
"""

from __future__ import annotations

import re
import shlex

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("optuna")


@pytest.fixture
def diabetes_csv(tmp_path):
    from sklearn.datasets import load_diabetes

    path = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


def _best(out: str) -> float:
    return float(re.search(r"^best\s+validation \S+ (-?[0-9.]+)", out, re.M).group(1))


def _command(out: str) -> list[str]:
    line = next(s for s in out.splitlines() if s.startswith("train   "))
    words = shlex.split(line.removeprefix("train   "))
    assert words[:2] == ["chainrule", "train"]
    return words[1:]  # "train" and its options


def _weights(path) -> dict[str, np.ndarray]:
    return cr.load(path).estimator.model_.state_dict()


def test_the_default_trial_scores_what_train_reports(tmp_path, diabetes_csv, cli):
    # The example: the defaults scored R² 0.155 in tune and 0.512 in train.
    code, out, err = cli(
        "tune", diabetes_csv, "--target", "target", "--trials", "1", "--space", '{"lr": [0.002]}'
    )
    assert code == 0, err
    code, _, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m", "--quiet"
    )
    assert code == 0, err
    trained = cr.load(tmp_path / "m").info["metrics"]["validation"]["r2"]
    assert _best(out) == pytest.approx(trained, abs=5e-5)


def test_trial_0_is_the_settings_given_so_tuning_never_does_worse(diabetes_csv, cli):
    code, out, err = cli("tune", diabetes_csv, "--target", "target", "--trials", "4")
    assert code == 0, err
    lines = [s for s in out.splitlines() if re.match(r"trial +\d+  ", s)]
    assert [int(s.split()[1]) for s in lines] == [0, 1, 2, 3]  # one line per finished trial
    scores = [float(re.search(r"R² (-?[0-9.]+)", s).group(1)) for s in lines]
    assert "learning_rate=0.002" in lines[0] and "hidden_layer_sizes=(100,)" in lines[0]
    assert all(re.search(r"\d+ epochs  [0-9.]+ s", s) for s in lines)
    assert _best(out) == pytest.approx(max(scores), abs=5e-5) and _best(out) >= scores[0]
    # The final table is plain text: no Markdown on a terminal.
    assert "|" not in out and "**" not in out and "---|" not in out


def test_the_printed_train_command_is_complete_and_repeats_the_model(tmp_path, cli):
    rng = np.random.default_rng(0)
    n = 120
    table = (
        "id;colour;size;noise;label\n"
        + "\n".join(
            f"{i};{rng.choice(['red', 'blue'])};{s:.3f};{rng.normal():.3f};{int(s > 0)}"
            for i, s in enumerate(rng.normal(size=n))
        )
        + "\n"
    )
    data = tmp_path / "t.csv"
    data.write_text(table)
    code, out, err = cli(
        "tune", data, "--target", "label", "--sep", ";", "--drop", "noise",
        "--categorical", "size", "--task", "classification", "--trials", "3",
        "--epochs", "15", "--out", tmp_path / "tuned.chainrule", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    words = _command(out)
    text = " ".join(words)
    for option in ("--sep ;", "--drop noise", "--categorical size", "--task classification"):
        assert option in text
    assert "None" not in words and "--augment none" in text
    assert "--epochs 15" in text
    # Run what was printed (to another file): the same weights, bit for bit.
    i = words.index("--out")
    words[i + 1] = str(tmp_path / "again.chainrule")
    code, _, err = cli(*words, "--quiet")
    assert code == 0, err
    a, b = _weights(tmp_path / "tuned.chainrule"), _weights(tmp_path / "again.chainrule")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    tuned = cr.load(tmp_path / "tuned.chainrule")
    assert tuned.info["metrics"]["validation"]["accuracy"] == pytest.approx(_best(out), abs=5e-5)


def test_a_model_saved_by_tune_has_a_full_record(tmp_path, diabetes_csv, cli):
    out_file = tmp_path / "tuned.chainrule"
    code, _, err = cli(
        "tune", diabetes_csv, "--target", "target", "--trials", "2", "--epochs", "20",
        "--out", out_file, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli("info", out_file)
    assert code == 0, err
    assert "None" not in out
    assert "353 training rows, 89 validation rows" in out and "command       chainrule" in out


def test_cross_validated_trials_use_the_folds(diabetes_csv, cli):
    code, out, err = cli(
        "tune", diabetes_csv, "--target", "target", "--trials", "2", "--cv", "3", "--epochs", "20"
    )
    assert code == 0, err
    assert "3-fold cross-validation" in out
    assert re.search(r"^best\s+mean over the folds R² ", out, re.M)
