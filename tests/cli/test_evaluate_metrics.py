"""`chainrule evaluate`: per-class scores, averages, log-loss, ROC-AUC and the report.

Expected values are computed here from their definitions (counts of the confusion matrix,
−mean log p, the rank form of the AUC), not by the library that `evaluate` calls.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

import chainrule as cr

from .conftest import make_classification, make_regression


def _auc(scores, positive):
    """P(score of a positive > score of a negative), ties counting one half."""
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return greater / (len(pos) * len(neg))


def test_per_class_scores_and_averages_follow_the_confusion_matrix(trained_clf, clf_csv, cli):
    code, out, err = cli("evaluate", trained_clf, clf_csv, "--json")
    assert code == 0, err
    m = json.loads(out)
    C = np.array(m["confusion_matrix"], dtype=float)
    precision, recall = np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)
    f1 = 2 * precision * recall / (precision + recall)
    support = C.sum(axis=1)
    for k, label in enumerate(m["labels"]):
        row = m["per_class"][label]
        assert row["precision"] == np.float64(precision[k]).item()
        np.testing.assert_allclose([row["recall"], row["f1"]], [recall[k], f1[k]])
        assert row["support"] == support[k]
    np.testing.assert_allclose(m["macro_avg"]["precision"], precision.mean())
    np.testing.assert_allclose(m["macro_avg"]["f1"], f1.mean())
    np.testing.assert_allclose(m["f1_macro"], f1.mean())
    np.testing.assert_allclose(m["weighted_avg"]["recall"], np.average(recall, weights=support))
    assert m["weighted_avg"]["support"] == len(make_classification())


def test_log_loss_and_one_vs_rest_roc_auc(trained_clf, clf_csv, cli):
    code, out, err = cli("evaluate", trained_clf, clf_csv, "--json")
    assert code == 0, err
    m = json.loads(out)
    frame = make_classification()
    model = cr.load(trained_clf)
    p = model.predict_proba(frame).astype(np.float64)
    y = frame["animal"].to_numpy()
    k = np.searchsorted(model.classes_, y)
    np.testing.assert_allclose(m["log_loss"], -np.mean(np.log(p[np.arange(len(y)), k])))
    aucs = [_auc(p[:, j], y == c) for j, c in enumerate(model.classes_)]
    for j, c in enumerate(model.classes_):
        np.testing.assert_allclose(m["per_class"][c]["roc_auc"], aucs[j])
    np.testing.assert_allclose(m["roc_auc"], np.mean(aucs))
    weights = [np.mean(y == c) for c in model.classes_]
    np.testing.assert_allclose(m["roc_auc_weighted"], np.average(aucs, weights=weights))
    code, out, err = cli("evaluate", trained_clf, clf_csv)
    assert code == 0, err
    for text in ("precision", "recall", "support", "macro avg", "weighted avg", "log-loss"):
        assert text in out
    assert "ROC-AUC" in out and "(one-vs-rest, macro)" in out


def test_binary_roc_auc_is_of_the_second_class(tmp_path, cli):
    frame = make_classification()
    frame["flag"] = frame.pop("animal") == "dog"
    data, model = tmp_path / "flag.csv", tmp_path / "flag.chainrule"
    frame.to_csv(data, index=False)
    assert cli("train", data, "--target", "flag", "--out", model, "--quiet")[0] == 0
    code, out, err = cli("evaluate", model, data, "--json")
    assert code == 0, err
    m = json.loads(out)
    p = cr.load(model).predict_proba(frame)[:, 1]
    np.testing.assert_allclose(m["roc_auc"], _auc(p, frame["flag"].to_numpy()))
    assert "roc_auc_weighted" not in m


def test_an_unseen_true_class_leaves_the_probability_scores_out(tmp_path, trained_clf, cli):
    frame = make_classification(n=30, seed=2)
    frame.loc[:4, "animal"] = "fish"
    data = tmp_path / "fish.csv"
    frame.to_csv(data, index=False)
    code, out, err = cli("evaluate", trained_clf, data, "--json")
    assert code == 0, err
    m = json.loads(out)
    assert m["log_loss"] is None and m["roc_auc"] is None
    assert "5 row(s) have a class the model never saw" in m["not_scored"]
    assert m["per_class"]["fish"]["support"] == 5 and m["per_class"]["fish"]["recall"] == 0


def test_report_has_the_metrics_and_the_figure(tmp_path, trained_clf, clf_csv, cli):
    folder = tmp_path / "eval"
    code, _, err = cli("evaluate", trained_clf, clf_csv, "--report", folder)
    assert code == 0, err
    assert json.loads((folder / "metrics.json").read_text())["per_class"]["cat"]["support"] > 0
    assert (folder / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regression_report_has_the_residual_plot(tmp_path, trained_reg, reg_csv, cli):
    folder = tmp_path / "eval"
    code, out, err = cli("evaluate", trained_reg, reg_csv, "--report", folder)
    assert code == 0, err
    assert "R²" in out and "MAE" in out and "RMSE" in out and str(folder) in out
    assert (folder / "residuals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((folder / "metrics.json").read_text())
    y = pd.read_csv(reg_csv)["price"].to_numpy()
    pred = cr.load(trained_reg).predict(make_regression())
    np.testing.assert_allclose(metrics["rmse"], np.sqrt(np.mean((y - pred) ** 2)))
