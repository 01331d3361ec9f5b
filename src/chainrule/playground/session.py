"""One playground run: data, network, optimizer and the training loop, without a browser.

A `Session` is what one browser tab trains. ``apply(changes)`` checks new settings (see
`Config.update`) and starts again from new weights when the network or data change;
``step()`` takes one optimizer step on the next minibatch; ``run_epochs(n)`` and
``advance(seconds)`` train on; ``frame()`` says what the page draws. An epoch is one pass
over the training points, in minibatches of the chosen regime.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import nn, optim
from chainrule.autograd import Tensor, no_grad
from chainrule.playground.config import RESET_FIELDS, Config, PlaygroundError
from chainrule.playground.datasets import features, make_dataset, split
from chainrule.playground.network import Trace, build_network, layers_of
from chainrule.playground.network import trace as trace_network

__all__ = ["Session"]

_OPTIMIZER_FIELDS = ("optimizer", "momentum", "beta1", "beta2", "rho")
STEP_HISTORY = 300  # the minibatch losses of the last steps, whose noise shows the GD regime


def optimizer_of(config: Config, params: list[Any]) -> optim.Optimizer:
    """The optimizer named in `config`, with its parameters."""
    lr = config.learning_rate
    if config.optimizer == "sgd":
        return optim.SGD(params, lr)
    if config.optimizer in ("momentum", "nesterov"):
        nesterov = config.optimizer == "nesterov"
        return optim.SGD(params, lr, momentum=config.momentum, nesterov=nesterov)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr, alpha=config.rho)
    return optim.Adam(params, lr, betas=(config.beta1, config.beta2))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class Session:
    """A network learning one dataset, stepped on demand (see the module docstring)."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.diverged: str | None = None
        self.reset()

    # -- set-up ---------------------------------------------------------------------------
    def reset(self) -> None:
        """New data (from the seed), new weights, epoch 0, empty curves."""
        c = self.config
        if c.batch_norm and c.regime == "stochastic":
            raise PlaygroundError("batch norm needs at least 2 samples per step; not with 1")
        points, labels = make_dataset(c.dataset, noise=c.noise / 100, seed=c.seed)
        self.train_points, self.train_y, self.test_points, self.test_y = split(
            points, labels, c.train_percent
        )
        self.x_train = features(self.train_points, c.features)
        self.x_test = features(self.test_points, c.features)
        self.rng = np.random.default_rng(c.seed)
        self.model = build_network(c, self.rng)
        self.layers = layers_of(self.model)
        self.loss_fn = nn.BinaryCrossEntropy() if self.classification else nn.SquaredError()
        self.optimizer = optimizer_of(c, list(self.model.parameters()))
        self.epoch = 0
        self.steps = 0
        self._order = self.rng.permutation(len(self.x_train))
        self._cursor = 0
        self._epoch_norms: list[list[float]] = []
        self.history: dict[str, list[Any]] = {"train": [], "test": [], "grad_norms": []}
        self.best_epoch = 0
        self.best_test = math.inf
        self.stop_epoch: int | None = None
        self.diverged = None
        self.last_norms = [0.0] * len(self.layers)
        self.step_losses: deque[float] = deque(maxlen=STEP_HISTORY)
        self._record_epoch()

    @property
    def classification(self) -> bool:
        return self.config.problem == "classification"

    def apply(self, changes: dict[str, Any]) -> bool:
        """Take new settings; return True when training starts again from new weights.

        A bad value raises `PlaygroundError` and changes nothing.
        """
        new = self.config.update(changes)
        old, self.config = self.config, new
        changed = {k for k in new.to_dict() if getattr(new, k) != getattr(old, k)}
        if changed & RESET_FIELDS or (new.batch_norm and new.regime == "stochastic"):
            try:
                self.reset()
            except PlaygroundError:
                self.config = old
                self.reset()
                raise
            return True
        if changed & set(_OPTIMIZER_FIELDS):
            self.optimizer = optimizer_of(new, list(self.model.parameters()))
        elif "learning_rate" in changed:
            for group in self.optimizer.param_groups:
                group["lr"] = new.learning_rate
        return False

    # -- training -------------------------------------------------------------------------
    def _targets(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(-1, 1).astype(np.float32)

    def _next_batch(self) -> np.ndarray:
        n = len(self.x_train)
        size = min(self.config.effective_batch_size or n, n)
        batch = self._order[self._cursor : self._cursor + size]
        self._cursor += size
        return batch

    def objective(self, output: Tensor, y: np.ndarray) -> tuple[Tensor, Tensor]:
        """(the data loss E, E plus the weight penalty) of the network's `output` for `y`."""
        loss = self.loss_fn(output, self._targets(y))
        c = self.config
        if c.regularization == "l1" and c.reg_rate > 0:
            return loss, loss + nn.l1_penalty(self.model, c.reg_rate)
        if c.regularization == "l2" and c.reg_rate > 0:
            return loss, loss + nn.l2_penalty(self.model, c.reg_rate)
        return loss, loss

    def step(self, observe: Callable[[Trace, np.ndarray], None] | None = None) -> float:
        """One optimizer step on the next minibatch; returns its loss (without penalty).

        With `observe`, the forward pass is traced layer by layer with probes (see
        `network.trace`), and ``observe(trace, batch)`` sees it after backpropagation,
        before the weights change.
        """
        if self.diverged:
            return math.nan
        # Overflow is how divergence shows; it is reported once, as `diverged`, not as warnings.
        with np.errstate(all="ignore"):
            return self._step(observe)

    def _step(self, observe: Callable[[Trace, np.ndarray], None] | None) -> float:
        batch = self._next_batch()
        self.model.train()
        self.optimizer.zero_grad()
        x = Tensor(self.x_train[batch])
        traced = trace_network(self.model, x, probe=True) if observe else None
        output = traced.output if traced else self.model(x)
        loss, total = self.objective(output, self.train_y[batch])
        total.backward()
        value = float(loss.item())
        self.step_losses.append(value)
        if not math.isfinite(value):
            self.diverged = (
                f"training diverged at epoch {self.epoch}: the loss is not a finite number; "
                "lower the learning rate and reset"
            )
            return value
        self.last_norms = [
            float(np.linalg.norm(self.model[layer.dense].weight.grad)) for layer in self.layers
        ]
        self._epoch_norms.append(self.last_norms)
        if observe and traced:
            observe(traced, batch)
        self.optimizer.step()
        self.steps += 1
        if self._cursor >= len(self._order):
            self._end_epoch()
        return value

    def _end_epoch(self) -> None:
        self.epoch += 1
        self._order = self.rng.permutation(len(self.x_train))
        self._cursor = 0
        self._record_epoch()

    def _record_epoch(self) -> None:
        train, test = self.losses()
        self.history["train"].append(_finite(train))
        self.history["test"].append(_finite(test))
        norms = np.mean(self._epoch_norms, axis=0) if self._epoch_norms else self.last_norms
        self.history["grad_norms"].append([float(v) for v in norms])
        self._epoch_norms = []
        # Early stopping's markers: where it would stop (`patience` epochs without a better
        # test loss) and the best epoch, whose weights it would restore; both fixed once stopped.
        if self.stop_epoch is None and math.isfinite(test) and test < self.best_test:
            self.best_test, self.best_epoch = test, self.epoch
        if self.stop_epoch is None and self.epoch - self.best_epoch >= self.config.patience:
            self.stop_epoch = self.epoch

    def run_epochs(self, n: int) -> None:
        """Train `n` whole epochs (fewer if training diverges)."""
        target = self.epoch + n
        while self.epoch < target and not self.diverged:
            self.step()

    def advance(self, seconds: float) -> int:
        """Train for about `seconds` (at least one step); return the steps taken."""
        start = time.perf_counter()
        taken = 0
        while not self.diverged and (taken == 0 or time.perf_counter() - start < seconds):
            self.step()
            taken += 1
        return taken

    # -- what the page shows --------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """The network's output for feature rows `x`: P(class 1) or the predicted value."""
        self.model.eval()
        with no_grad(), np.errstate(all="ignore"):
            out = self.model(Tensor(x)).data[:, 0].astype(np.float64)
        return 1 / (1 + np.exp(-np.clip(out, -60, 60))) if self.classification else out

    def losses(self) -> tuple[float, float]:
        """(train loss, test loss) on all the points, without dropout or penalty."""
        self.model.eval()
        with no_grad(), np.errstate(all="ignore"):
            values = [
                float(self.objective(self.model(Tensor(x)), y)[0].item())
                for x, y in ((self.x_train, self.train_y), (self.x_test, self.test_y))
            ]
        return values[0], values[1]

    def grid_outputs(self, points: np.ndarray) -> tuple[np.ndarray, list[list[np.ndarray]]]:
        """The output on `points` (n, 2) in [−1, 1], and each neuron's z there: one pass."""
        self.model.eval()
        with no_grad(), np.errstate(all="ignore"):
            t = trace_network(self.model, features(points, self.config.features))
        out = t.output.data[:, 0].astype(np.float64)
        if self.classification:
            out = 2 / (1 + np.exp(-np.clip(out, -60, 60))) - 1
        neurons = [[z.data[:, i] for i in range(z.shape[1])] for z in t.post[:-1]]
        return np.clip(out, -1, 1), neurons

    def weights(self) -> list[dict[str, list[Any]]]:
        """Each layer's W (out × in) and b as nested lists."""
        result = []
        for layer in self.layers:
            dense = self.model[layer.dense]
            result.append({"weight": dense.weight.data.tolist(), "bias": dense.bias.data.tolist()})
        return result
