"""The recipe's report: one Markdown file a student could hand in, with its figures.

`write_report(result, folder)` writes ``report.md`` (the steps in order, each with its
numbers, a figure and a sentence of interpretation), one PNG per figure, ``results.json``
(the numbers) and ``trials.csv`` (the tuning trials). Figures are drawn with matplotlib
without pyplot (no window, no global state); without matplotlib the report says so and
goes on without them. Every file is written atomically.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._version import __version__
from chainrule.recipe._common import fmt, markdown_table
from chainrule.recipe.workflow import RecipeResult
from chainrule.saving.atomic import atomic_open
from chainrule.viz.plot_style import BEST, MUTED, TRAIN, png_bytes, style_context

__all__ = ["Figures", "write_bytes", "write_report"]


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path) as f:
        f.write(data)


class Figures:
    """Saves figures as PNG files in the report folder (or notes that it cannot)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            from matplotlib.figure import Figure
        except ImportError:
            self.Figure = None
        else:
            self.Figure = Figure
        self.written: list[Path] = []

    def new(self, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)) -> Any:
        fig = self.Figure(figsize=size, layout="constrained")
        return fig, fig.subplots(1, ncols)

    def save(self, fig: Any, name: str) -> str:
        write_bytes(self.folder / name, png_bytes(fig))
        self.written.append(self.folder / name)
        return f"![{name[:-4].replace('_', ' ')}]({name})"

    def draw(
        self, name: str, drawing: Any, ncols: int = 1, size: tuple[float, float] = (6.0, 4.0)
    ) -> str:
        """``drawing(axes)`` into a new figure saved as `name`; the Markdown image link."""
        if self.Figure is None:
            return (
                '_(figure not drawn: matplotlib is not installed, pip install "chainrule[plot]")_'
            )
        with style_context():
            fig, ax = self.new(ncols, size)
            drawing(ax)
        return self.save(fig, name)


def _rows(table: Any) -> list[dict[str, Any]]:
    return table if isinstance(table, list) else table.to_dict("records")


def _baselines_plot(rows: list[dict[str, Any]], metric: str) -> Any:
    def draw(ax: Any) -> None:
        names = [r["model"] for r in rows]
        ax.barh(
            names,
            [r["score"] for r in rows],
            xerr=[r["std"] for r in rows],
            color=TRAIN,
            alpha=0.85,
        )
        ax.invert_yaxis()
        ax.set_xlabel(f"cross-validated {metric}")
        ax.set_title("baselines")
        ax.grid(alpha=0.3, axis="x")

    return draw


def _final_plot(final: Any, units: bool = False) -> Any:
    from chainrule.viz.plotting import plot_history

    def draw(ax: Any) -> None:
        history = final.history_.history
        val = history.get("val_loss")
        best = int(np.nanargmin(val)) + 1 if val and np.isfinite(val).any() else None
        plot_history(
            history,
            ("loss", "val_loss"),
            ax=ax,
            loss_name=final._loss_name(),
            best_epoch=best,
            units="standardized target units" if units else None,
        )
        ax.set_title("final model: learning curves")

    return draw


def _scales_height(r: RecipeResult) -> float:
    from chainrule.recipe.summarize import plot_height

    return plot_height(sum(f["kind"] == "numeric" for f in r.summary.features))


def _ensemble_plot(members: list[float], ensemble: float, metric: str) -> Any:
    def draw(ax: Any) -> None:
        xs = np.arange(1, len(members) + 1)
        bars = ax.bar(xs, members, color=MUTED, label="members")
        ax.bar_label(bars, fmt="%.4g", label_type="center", color="white", fontsize=9)
        ax.axhline(ensemble, color=BEST, linewidth=2, label=f"ensemble ({ensemble:.4f})")
        top = max(*members, ensemble)
        ax.set_ylim(min(0.0, *members, ensemble), top + 0.15 * abs(top))  # bars start at 0
        ax.set_xticks(xs)
        ax.set_xlabel("member")
        ax.set_ylabel(f"test {metric}")
        ax.set_title("ensemble vs its members")
        ax.legend(loc="lower right")

    return draw


def _errors_plot(result: RecipeResult) -> Any:
    from chainrule.viz.plotting import plot_confusion_matrix, plot_residuals

    def draw(ax: Any) -> None:
        if result.task == "classification":
            from sklearn.metrics import confusion_matrix

            labels = result.labels or []
            C = confusion_matrix(result.y_test, result.predictions, labels=labels)
            plot_confusion_matrix(C, labels, ax=ax, title="ensemble on the test set")
        else:
            plot_residuals(
                result.y_test,
                result.predictions,
                ax=ax,
                title="ensemble on the test set: residuals",
            )

    return draw


def _conclusion(r: RecipeResult, key: str, ens_name: str, base_name: str) -> str:
    """A few sentences that read the test table (all scores: greater is better)."""
    ens, base = r.test[ens_name][key], r.test[base_name][key]
    final = r.test["final network"][key]
    if ens > base:
        text = f"The ensemble beats the best baseline by {ens - base:.4f} ({r.metric})."
    elif ens == base:
        text = "The ensemble ties with the best baseline."
    else:
        text = (
            f"On this data the best baseline wins by {base - ens:.4f} ({r.metric}): a network "
            "is not always worth it here; more data, better features or a longer search "
            "(more trials, cross-validation) may change that."
        )
    gain = ens - final
    text += f" Averaging {len(r.member_scores)} networks " + (
        f"gained {gain:.4f} over the single final network."
        if gain > 0
        else "did not improve on the single final network this time."
    )
    if not r.overfit.passed:
        text += " Note that the overfit check failed: look into that first (section 3)."
    n = r.n_test
    text += f" With {n} test rows, one sample is {1 / n:.4f} of accuracy: small gaps are noise."
    return text if r.task == "classification" else text.rsplit(" With ", 1)[0]


def _sections(r: RecipeResult, fig: Figures) -> list[str]:
    m = r.metric
    rows = _rows(r.baselines)
    best = max(rows, key=lambda row: row["score"])
    key = "accuracy" if r.task == "classification" else "r2"
    ens_name = next(k for k in r.test if k.startswith("ensemble"))
    base_name = next(k for k in r.test if k.startswith("best baseline"))
    tuned = r.tuning
    out = [
        f"# Training recipe: {r.data_name}",
        "",
        f"_chainrule {__version__}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. "
        f"{r.task.capitalize()}; {r.n_train} training rows, {r.n_test} test rows held out "
        "until the end._",
        "",
        f"**Result:** the ensemble scores a test {m} of **{r.test[ens_name][key]:.4f}**, "
        f"against {r.test[base_name][key]:.4f} for the best baseline ({best['model']}).",
        "",
        "## 1. Become one with the data",
        "",
        str(r.summary),
        fig.draw("feature_scales.png", r.summary.plot, size=(8.0, _scales_height(r))),
        "",
        "## 2. Baselines",
        "",
        f"{r.settings['cv']}-fold cross-validated {m} on the training rows. The network has "
        f"to beat **{best['model']}** ({best['score']:.4f}); the constant prediction shows "
        "what knowing nothing scores.",
        "",
        markdown_table(
            ["model", m, "± std", "fit time (s)"],
            [[row["model"], row["score"], row["std"], row["fit_time_s"]] for row in rows],
        ),
        "",
        fig.draw("baselines.png", _baselines_plot(rows, m), size=(7.0, 3.0)),
        "",
        "## 3. Overfit a small batch",
        "",
        str(r.overfit),
        "Regularization was off for this check: "
        + ", ".join(f"{k}={v}" for k, v in r.overfit.changed.items())
        + ".",
        "",
        fig.draw("overfit.png", r.overfit.plot),
        "",
        "## 4. Learning rate",
        "",
        str(r.lr) + ". The tuning below searched η around this suggestion.",
        "",
        fig.draw("lr_find.png", r.lr.plot),
        "",
        "## 5. Tuning",
        "",
        "Optuna's TPE sampler on a validation split of the training rows; trials whose "
        "per-epoch validation score fell below the median of finished trials were pruned.",
        "",
        tuned.to_markdown(),
        fig.draw(
            "tuning.png",
            lambda ax: (tuned.plot(ax[0]), tuned.plot_intermediate(ax[1])),
            ncols=2,
            size=(11.0, 4.0),
        ),
        "",
        "## 6. Final model",
        "",
        f"The best parameters, trained with early stopping (patience "
        f"{r.final.patience} epochs on a {r.final.validation_fraction:.0%} validation split, "
        f"best weights restored): {r.final.n_iter_} epochs.",
        "",
        fig.draw("final_model.png", _final_plot(r.final, units=r.task == "regression")),
        "",
        "## 7. Ensemble",
        "",
        f"{len(r.member_scores)} copies of the final configuration, trained with different "
        f"seeds; their probabilities (or predictions) are averaged. Members' test {m}: "
        f"{fmt(min(r.member_scores))} to {fmt(max(r.member_scores))}; the ensemble: "
        f"{r.test[ens_name][key]:.4f}.",
        "",
        fig.draw("ensemble.png", _ensemble_plot(r.member_scores, r.test[ens_name][key], m)),
        "",
        "## Test set",
        "",
    ]
    names = list(next(iter(r.test.values())))
    out += [
        markdown_table(["model", *names], [[k, *v.values()] for k, v in r.test.items()]),
        "",
        _conclusion(r, key, ens_name, base_name),
        "",
        fig.draw("test_errors.png", _errors_plot(r), size=(6.0, 5.0)),
        "",
        "## Settings",
        "",
        markdown_table(["setting", "value"], list(r.settings.items())),
        "",
        "Time per step (s): " + ", ".join(f"{k} {v:.1f}" for k, v in r.seconds.items()) + ".",
        "",
    ]
    return out


def write_report(result: RecipeResult, folder: str | os.PathLike[str]) -> Path:
    """Write the report of `result` into `folder` (created if needed); return report.md's path."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    figures = Figures(out)
    text = "\n".join(_sections(result, figures))
    path = out / "report.md"
    write_bytes(path, text.encode("utf-8"))
    numbers = {
        "data": result.data_name,
        "task": result.task,
        "summary": result.summary.to_dict(),
        "baselines": _rows(result.baselines),
        "overfit": {k: v for k, v in vars(result.overfit).items() if k != "losses"},
        "lr_find": {"suggestion": result.lr.suggestion, "lr_min": result.lr.lr_min},
        "tuning": {
            "best_params": {
                k: v if isinstance(v, int | float | str) else str(v)
                for k, v in result.tuning.best_params_.items()
            },
            "best_score": result.tuning.best_score_,
        },
        "test": result.test,
        "member_scores": result.member_scores,
        "settings": result.settings,
        "seconds": result.seconds,
    }
    write_bytes(out / "results.json", (json.dumps(numbers, indent=2, default=str) + "\n").encode())
    trials = result.tuning.trials_
    if hasattr(trials, "to_csv"):
        write_bytes(out / "trials.csv", trials.to_csv(index=False).encode("utf-8"))
    return path
