"""``chainrule train --augment NAME``: the estimators' `augment`, by name, saved in the model."""

from __future__ import annotations

import pytest

import chainrule as cr

from .conftest import FAST


@pytest.mark.parametrize("name", ["noise", "mixup"])
def test_augment_option_reaches_the_saved_estimator(cli, clf_csv, tmp_path, name):
    out = tmp_path / "m.crz"
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--out", out, *FAST, "--augment", name
    )
    assert code == 0, err
    assert cr.load(out).estimator.get_params()["augment"] == name


def test_augment_defaults_to_none_and_rejects_unknown_names(cli, clf_csv, tmp_path):
    out = tmp_path / "m.crz"
    code, _, err = cli("train", clf_csv, "--target", "animal", "--out", out, *FAST)
    assert code == 0, err
    assert cr.load(out).estimator.get_params()["augment"] is None
    code, _, err = cli("train", clf_csv, "--target", "animal", "--out", out, "--augment", "rotate")
    assert code != 0
    assert "'rotate' is not an augmentation" in err and "noise, mixup, shift" in err
