"""`TuneResult`: what `tune` returns, with its table, Markdown and plots."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.recipe._common import axes, markdown_table, text_table
from chainrule.recipe._trial import TrialOutcome
from chainrule.viz.plot_style import BEST, MUTED, TRAIN, integer_ticks, styled

__all__ = ["TuneResult", "trial_row"]


@dataclass
class TuneResult:
    """The outcome of `tune`.

    Attributes
    ----------
    best_params_ : dict
        The best trial's parameters (the values given in the space, tuples included).
    best_score_ : float
        Its score (mean over the folds; greater is better).
    best_trial_ : int
        Its number.
    best_estimator_ : estimator or None
        A clone with `best_params_`, refitted on all the data (None with ``refit=False``).
    trials_ : pandas.DataFrame (list of dicts without pandas)
        One row per trial: ``number``, ``state`` (COMPLETE, PRUNED, FAIL), ``score``,
        ``epochs`` run, ``seconds``, ``worker`` (Dask address, or None here), the parameters,
        and ``error`` for failed trials.
    study_ : optuna.Study
        The study, for Optuna's own analysis and plots.
    outcomes : list
        Each trial's per-epoch scores (``.values``) and fold scores.
    metric : str
        What the score is (accuracy, R², or the `scoring` given).
    space : dict
        The searched parameters and their ranges, in words.
    """

    best_params_: dict[str, Any]
    best_score_: float
    best_trial_: int
    best_estimator_: Any
    trials_: Any
    study_: Any
    outcomes: list[TrialOutcome] = field(repr=False, default_factory=list)
    metric: str = "score"
    space: dict[str, str] = field(default_factory=dict)

    def _count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    def _tables(self, top: int) -> tuple[str, list[tuple[list[str], list[list[Any]]]]]:
        """The summary sentence, the parameters table and the best `top` trials' table."""
        n = len(self.outcomes)
        summary = (
            f"{n} trials: {self._count('COMPLETE')} complete, {self._count('PRUNED')} pruned, "
            f"{self._count('FAIL')} failed. Best {self.metric}: {{best}} "
            f"(trial {self.best_trial_})."
        )
        params = (
            ["parameter", "searched", "best"],
            [[k, v, _shown(self.best_params_.get(k))] for k, v in self.space.items()],
        )
        done = sorted(
            (o for o in self.outcomes if o.value is not None),
            key=lambda o: -(o.value if o.state == "COMPLETE" else -math.inf),
        )[:top]
        trials = (
            ["trial", "state", self.metric, "epochs", *self.space],
            [
                [o.number, o.state.lower(), o.value, o.epochs or len(o.values) or None]
                + [self._params(o.number).get(k) for k in self.space]
                for o in done
            ],
        )
        return summary, [params, trials]

    def to_markdown(self, top: int = 10) -> str:
        """The summary, the searched parameters and the best `top` trials, as Markdown."""
        return self._render(top, f"**{self.best_score_:.4f}**", markdown_table)

    def to_text(self, top: int = 10) -> str:
        """The same as `to_markdown`, as plain text for a terminal."""
        return self._render(top, f"{self.best_score_:.4f}", text_table)

    def _render(self, top: int, best: str, table: Callable[..., str]) -> str:
        summary, tables = self._tables(top)
        lines = [summary.format(best=best), ""]
        for header, rows in tables:
            lines += [table(header, rows), ""]
        return "\n".join(lines[:-1]) + "\n"

    def _params(self, number: int) -> dict[str, Any]:
        rows = self.trials_ if isinstance(self.trials_, list) else self.trials_.to_dict("records")
        return next((r for r in rows if r["number"] == number), {})

    def __str__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self, top: int = 10) -> str:
        """Notebook display: the search in a sentence, the best parameters, the best trials."""
        from chainrule.viz.html import html_table

        summary, ((p_header, p_rows), (header, rows)) = self._tables(top)
        head = "<p>" + html.escape(summary).format(best=f"<b>{self.best_score_:.4f}</b>") + "</p>"
        params = html_table(p_header, p_rows)
        return head + params + html_table(header, rows, caption=f"best {len(rows)} trials")

    @styled
    def plot(self, ax: Any = None) -> Any:
        """Each trial's score against its number, pruned ones marked, and the best so far."""
        ax = axes(ax)
        styles = {
            "COMPLETE": (TRAIN, "o", "complete"),
            "PRUNED": (MUTED, "x", "pruned (score when stopped)"),
        }
        for state, (color, marker, label) in styles.items():
            pts = [
                (o.number, o.value)
                for o in self.outcomes
                if o.state == state and o.value is not None
            ]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.scatter(xs, ys, c=color, marker=marker, s=28, alpha=0.8, label=label, zorder=3)
        best, curve = -math.inf, []
        for o in sorted(self.outcomes, key=lambda o: o.number):
            if o.state == "COMPLETE" and o.value is not None:
                best = max(best, o.value)
            curve.append((o.number, best if math.isfinite(best) else np.nan))
        if curve:
            xs, ys = zip(*curve, strict=True)
            ax.step(xs, ys, where="post", color=BEST, label="best so far")
        ax.scatter(
            [self.best_trial_], [self.best_score_], marker="*", s=160, color=BEST,
            edgecolors="black", linewidths=0.5, zorder=4, label=f"best: trial {self.best_trial_}",
        )  # fmt: skip
        return self._label(ax, "trial", "hyperparameter search")

    @styled
    def plot_intermediate(self, ax: Any = None) -> Any:
        """Per-epoch validation scores of every trial: the best trial bold, the other complete
        trials thin, pruned trials dashed grey (they stop early)."""
        ax = axes(ax)
        for o in self.outcomes:
            if not o.values or o.number == self.best_trial_:
                continue
            epochs = np.arange(1, len(o.values) + 1)
            if o.state == "PRUNED":
                ax.plot(epochs, o.values, color=MUTED, alpha=0.6, linestyle="--", linewidth=1)
            else:
                ax.plot(epochs, o.values, color=TRAIN, alpha=0.45, linewidth=1)
        best = next((o for o in self.outcomes if o.number == self.best_trial_), None)
        if best is not None and best.values:
            epochs = np.arange(1, len(best.values) + 1)
            ax.plot(epochs, best.values, color=BEST, linewidth=2.2, zorder=3)
        ax.plot([], [], color=BEST, linewidth=2.2, label=f"best trial ({self.best_trial_})")
        ax.plot([], [], color=TRAIN, alpha=0.6, linewidth=1, label="other complete trials")
        if any(o.state == "PRUNED" for o in self.outcomes):
            ax.plot([], [], color=MUTED, linestyle="--", linewidth=1, label="pruned trials")
        return self._label(ax, "epoch", "learning curves of the trials")

    def _label(self, ax: Any, x: str, title: str) -> Any:
        """Both plots' axes: whole numbers along x, the validation score up, the legend."""
        ax.set_xlabel(x)
        integer_ticks(ax.xaxis)
        ax.set_ylabel(f"validation {self.metric}")
        ax.set_title(title)
        ax.legend(loc="lower right")
        return ax


def _shown(value: Any) -> Any:
    """A parameter value for a table: numbers and text as they are, others (None, tuples)
    as their text, so that a table does not turn None into NaN."""
    return value if isinstance(value, bool | int | float | str) else str(value)


def trial_row(o: TrialOutcome, params: dict[str, Any]) -> dict[str, Any]:
    """One row of the trials table (parameters other than numbers and text as text)."""
    shown = {k: _shown(v) for k, v in params.items()}
    return {
        "number": o.number,
        "state": o.state,
        "score": o.value,
        "epochs": o.epochs if o.epochs is not None else (len(o.values) or None),
        "seconds": round(o.seconds, 3),
        "worker": o.worker,
        **shown,
        "error": o.error,
    }
