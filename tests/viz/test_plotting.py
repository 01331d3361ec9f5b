"""Figures people can read: the shared style and the fixes to each chart."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.recipe._trial import TrialOutcome
from chainrule.recipe.report import _ensemble_plot
from chainrule.recipe.tune_result import TuneResult
from chainrule.viz import plot_style
from chainrule.viz.plotting import plot_confusion_matrix, plot_history

HISTORY = {"loss": [1.0, 0.6, 0.4, 0.35], "val_loss": [1.1, 0.7, 0.6, 0.65]}


def test_learning_curves_name_the_loss_mark_the_kept_epoch_and_use_whole_epochs() -> None:
    ax = plot_history(
        HISTORY, loss_name="squared_error", best_epoch=3, units="standardized target units"
    )
    assert ax.get_ylabel() == "squared error loss\n(standardized target units)"
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["training", "validation", "weights kept (epoch 3)"]
    vertical = [line for line in ax.lines if list(line.get_xdata()) == [3, 3]]
    assert len(vertical) == 1
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)
    colours = [line.get_color() for line in ax.lines[:2]]
    assert colours == [plot_style.TRAIN, plot_style.VALIDATION]


def test_learning_curves_of_scores_keep_their_names() -> None:
    ax = plot_history({"val_accuracy": [0.5, 0.7]}, ("val_accuracy",))
    assert ax.get_ylabel() == "val accuracy" and ax.get_xlabel() == "epoch"


def test_confusion_matrix_colours_start_at_zero_with_readable_counts() -> None:
    C = np.array([[50, 3], [4, 45]])
    ax = plot_confusion_matrix(C, ["no", "yes"])
    image = ax.images[0]
    assert image.get_clim() == (0, 50)  # a pale cell means few samples, not "the fewest"
    counts = {t.get_text(): t.get_fontsize() for t in ax.texts}
    assert set(counts) == {"50", "3", "4", "45"} and min(counts.values()) >= 9
    assert plot_confusion_matrix(np.zeros((2, 2), int), [0, 1]).images[0].get_clim() == (0, 1)


def test_ensemble_bars_start_at_zero() -> None:
    ax = plot_style.new_axes()
    _ensemble_plot([0.95, 0.96, 0.94], 0.97, "accuracy")(ax)
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylim()[1] > 0.97
    assert len(ax.get_legend().get_texts()) == 2


def _tuned() -> TuneResult:
    outcomes = [
        TrialOutcome(0, "COMPLETE", 0.9, [0.5, 0.8, 0.9]),
        TrialOutcome(1, "PRUNED", 0.4, [0.3, 0.4]),
        TrialOutcome(2, "COMPLETE", 0.95, [0.6, 0.9, 0.95]),
    ]
    return TuneResult({}, 0.95, 2, None, [], None, outcomes, "accuracy", {})


def test_tuning_charts_have_legends_and_single_out_the_best_trial() -> None:
    result = _tuned()
    ax = result.plot_intermediate()
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["best trial (2)", "other complete trials", "pruned trials"]
    bold = [line for line in ax.lines if line.get_linewidth() > 2 and len(line.get_xdata())]
    assert len(bold) == 1 and list(bold[0].get_ydata()) == [0.6, 0.9, 0.95]
    ax = result.plot()
    assert "best: trial 2" in ax.get_legend_handles_labels()[1]


def test_feature_scale_names_are_readable() -> None:
    from chainrule.recipe import summarize

    X = np.random.default_rng(0).normal(size=(50, 40)) * np.logspace(-3, 3, 40)
    summary = summarize(X, np.arange(50) % 2)
    ax = summary.plot()
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert len(names) == 30  # the 30 farthest from unit scale, not 40 squeezed together
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 8
    assert ax.figure.get_size_inches()[1] >= 0.2 * 30  # tall enough for one row per name


def test_every_figure_uses_the_style() -> None:
    ax = plot_history(HISTORY)
    assert ax.title.get_fontfamily() == ["DejaVu Sans"]
    assert not ax.spines["top"].get_visible()  # the style's, not matplotlib's default


def test_png_bytes_are_reproducible() -> None:
    first = plot_style.png_bytes(plot_history(HISTORY).figure)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and b"Software" not in first
    assert plot_style.png_bytes(plot_history(HISTORY).figure) == first


def test_reports_name_the_loss_mark_the_kept_epoch_and_the_units(monkeypatch, tmp_path) -> None:
    import chainrule.viz.plotting
    from chainrule.cli.report import write_report

    calls = []
    original = chainrule.viz.plotting.plot_history

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(chainrule.viz.plotting, "plot_history", spy)
    metrics = {"train": {}, "validation": None, "best_epoch": 3}
    y = np.array([1.0, 2.0, 3.0])
    write_report(
        tmp_path, task="regression", history=HISTORY, metrics=metrics, y_true=y,
        y_pred=y + 0.1, labels=None, command="chainrule train", loss_name="squared_error",
    )  # fmt: skip
    loss = calls[0]
    assert loss["loss_name"] == "squared_error" and loss["best_epoch"] == 3
    assert loss["units"] == "standardized target units"
    assert (tmp_path / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
