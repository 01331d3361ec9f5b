"""Progress reports: the bar `cr.fit` shows in a terminal or notebook, and per-epoch lines.

The bar (epoch, step, loss, validation numbers, ETA) uses tqdm when it is installed
(``pip install chainrule[progress]``; in Jupyter, tqdm's notebook front-end) and a one-line
built-in bar otherwise. `cr.fit` draws it on standard error, and only in a terminal or a
notebook, so logs and pipes stay clean. The estimators' ``verbose=True`` (`verbose_callback`)
prints one line per epoch instead where no bar can be drawn (CI logs, redirected output), as
scikit-learn's ``Iteration N, loss = ...``.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from chainrule.training.callbacks import Callback
from chainrule.training.protocol import TrainerLike


def is_terminal(stream: Any) -> bool:
    """True if `stream` is an interactive terminal."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def in_notebook() -> bool:
    """True inside a Jupyter (IPython kernel) session, where tqdm draws a notebook widget."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    ip = get() if callable(get) else None
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _format_time(seconds: float) -> str:
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def _format_logs(logs: dict[str, Any]) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items() if isinstance(v, float) and k != "lr")


class ProgressBar(Callback):
    """Shows the run's progress on `stream` (standard error by default).

    Parameters
    ----------
    stream : file, optional
        Where to draw.
    use_tqdm : bool, optional
        Force tqdm on or off (default: use it if it can be imported).
    min_interval : float
        Seconds between redraws of the built-in bar (drawing is never per step).
    """

    def __init__(
        self, stream: IO[str] | None = None, use_tqdm: bool | None = None, min_interval: float = 0.1
    ) -> None:
        self.stream = stream
        self.use_tqdm = use_tqdm
        self.min_interval = min_interval
        self._bar: Any = None

    def on_train_begin(self, trainer: TrainerLike) -> None:
        self._out = self.stream if self.stream is not None else sys.stderr
        self._epochs = trainer.epochs
        self._steps = trainer.steps_per_epoch
        self._total = max(0, trainer.epochs - trainer.initial_epoch) * self._steps
        self._done = 0
        self._start = self._last_draw = time.perf_counter()
        self._epoch_logs: dict[str, Any] = {}
        self._bar = None
        if self.use_tqdm is not False:
            try:  # tqdm.auto: the notebook widget in Jupyter, the text bar elsewhere
                from tqdm.auto import tqdm
            except ImportError:
                if self.use_tqdm:
                    raise
            else:
                self._bar = tqdm(total=self._total, file=self._out, unit="step", leave=True)

    def on_epoch_begin(self, trainer: TrainerLike, epoch: int) -> None:
        self._epoch, self._step, self._loss_sum, self._seen = epoch, 0, 0.0, 0
        if self._bar is not None:
            self._bar.set_description(f"epoch {epoch + 1}/{self._epochs}", refresh=False)

    def on_batch_end(self, trainer: TrainerLike, step: int, logs: dict[str, Any]) -> None:
        self._step, self._done = step + 1, self._done + 1
        self._loss_sum += logs["loss"] * logs["size"]
        self._seen += logs["size"]
        now = time.perf_counter()
        if self._bar is not None:
            if now - self._last_draw >= self.min_interval:
                self._bar.set_postfix_str(self._postfix(), refresh=False)
                self._last_draw = now
            self._bar.update(1)
        elif now - self._last_draw >= self.min_interval:
            self._draw(now)

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        self._epoch_logs = dict(logs)
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix(), refresh=True)
        else:
            self._draw(time.perf_counter())

    def on_train_end(self, trainer: TrainerLike) -> None:
        if self._done < self._total:
            # Stopped early (early stopping, a plateau rule, a callback): the run is complete,
            # so the bar ends full at the steps taken instead of hanging part-way.
            self._total = self._done
            note = f"epoch {trainer.epoch}/{self._epochs} (stopped early)"
            if self._bar is not None:
                self._bar.total = self._done
                self._bar.set_description(note, refresh=False)
                self._bar.refresh()
            elif self._done:
                self._epoch = trainer.epoch - 1
                self._draw(time.perf_counter(), suffix="  (stopped early)")
        self.close()

    def close(self) -> None:
        """Finish the bar's line (also after an error); calling it again does nothing."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif getattr(self, "_done", 0):
            self._out.write("\n")
            self._out.flush()
            self._done = 0

    def _postfix(self) -> str:
        text = f"loss {self._loss_sum / max(self._seen, 1):.4g}"
        last = {k: v for k, v in self._epoch_logs.items() if k.startswith("val_")}
        return f"{text}  {_format_logs(last)}" if last else text

    def _draw(self, now: float, suffix: str = "") -> None:
        self._last_draw = now
        elapsed = now - self._start
        eta = elapsed / self._done * (self._total - self._done) if self._done else 0.0
        line = (
            f"\repoch {self._epoch + 1}/{self._epochs}  step {self._step}/{self._steps}  "
            f"{self._postfix()}  ETA {_format_time(eta)}{suffix}"
        )
        self._out.write(line.ljust(getattr(self, "_width", 0)))
        self._width = len(line)  # pad the next line to wipe the end of this one
        self._out.flush()


class EpochLog(Callback):
    """One line per epoch, as scikit-learn's verbose MLP prints them.

    ``Iteration 3, loss = 0.41234567`` (plus the validation loss and score when there are
    any), and a last line saying when training stopped before its epoch budget. Written to
    `stream` (standard output by default, looked up at each run) and flushed at once, so CI
    logs and notebooks show them as training goes.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def on_train_begin(self, trainer: TrainerLike) -> None:
        self._out = self.stream if self.stream is not None else sys.stdout

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        line = f"Iteration {epoch + 1}, loss = {logs['loss']:.8f}"
        if "val_loss" in logs:
            line += f", validation loss = {logs['val_loss']:.8f}"
        if "val_score" in logs:
            line += f", validation score = {logs['val_score']:.6f}"
        self._out.write(line + "\n")
        self._out.flush()

    def on_train_end(self, trainer: TrainerLike) -> None:
        if trainer.stop_training and trainer.epoch < trainer.epochs:
            self._out.write(
                f"Stopped after iteration {trainer.epoch} of {trainer.epochs}: "
                "the stopping rule was met.\n"
            )
            self._out.flush()


def verbose_callback() -> Callback:
    """What ``verbose=True`` shows: a bar in a terminal or notebook, else `EpochLog` lines."""
    if is_terminal(sys.stderr) or in_notebook():
        return ProgressBar()
    return EpochLog()
