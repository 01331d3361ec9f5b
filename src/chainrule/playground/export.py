"""Export from the playground: the trained network as a model file, and Python that rebuilds it.

`model_file` writes the network with `chainrule.save` (load it with ``cr.load``); its inputs
are the chosen input features of (x₁, x₂), in the page's order. `python_code` is a script that
makes the same data, builds the same network and trains it with the same optimizer, regime
and penalty in a plain chainrule loop.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from chainrule.playground.config import Config
from chainrule.playground.session import Session
from chainrule.saving.modelfile import save

__all__ = ["model_file", "python_code"]

_INIT_CODE = {
    "random": "partial(cr.nn.init.uniform, low=-0.5, high=0.5)",
    "zeros": '"zeros"',
    "xavier": '"xavier_uniform"',
    "he": '"he_normal"',
}
_ACTIVATION_CODE = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity"}


def model_file(session: Session) -> bytes:
    """The bytes of a chainrule model file holding the session's network (in eval mode)."""
    session.model.eval()
    fd, name = tempfile.mkstemp(suffix=".chainrule")
    os.close(fd)
    try:
        save(session.model, name)
        return Path(name).read_bytes()
    finally:
        os.unlink(name)


def _layers_code(c: Config) -> list[str]:
    lines, width = [], len(c.features)
    for size in c.hidden:
        lines.append(f"cr.nn.Dense({width}, {size}, init=INIT, rng=rng),")
        if c.batch_norm:
            lines.append(f"cr.nn.BatchNorm({size}),")
        lines.append(f"cr.nn.{_ACTIVATION_CODE[c.activation]}(),")
        if c.dropout > 0:
            lines.append(f"cr.nn.Dropout({c.dropout}, rng=rng),")
        width = size
    lines.append(f"cr.nn.Dense({width}, 1, init=INIT, rng=rng),")
    return lines


def _optimizer_code(c: Config) -> str:
    lr = f"lr={c.learning_rate!r}"
    if c.optimizer == "sgd":
        return f"cr.optim.SGD(model.parameters(), {lr})"
    if c.optimizer in ("momentum", "nesterov"):
        nesterov = ", nesterov=True" if c.optimizer == "nesterov" else ""
        return f"cr.optim.SGD(model.parameters(), {lr}, momentum={c.momentum!r}{nesterov})"
    if c.optimizer == "rmsprop":
        return f"cr.optim.RMSprop(model.parameters(), {lr}, alpha={c.rho!r})"
    return f"cr.optim.Adam(model.parameters(), {lr}, betas=({c.beta1!r}, {c.beta2!r}))"


def python_code(config: Config, epochs: int = 100) -> str:
    """A runnable script that rebuilds `config` and trains it for `epochs` epochs."""
    c = config
    loss = "BinaryCrossEntropy" if c.problem == "classification" else "SquaredError"
    batch = {"stochastic": "1", "minibatch": str(c.batch_size), "batch": "len(X_train)"}
    penalty = ""
    if c.regularization != "none" and c.reg_rate > 0:
        penalty = f" + cr.nn.{c.regularization}_penalty(model, {c.reg_rate!r})"
    layers = "\n".join(f"    {line}" for line in _layers_code(c))
    return f'''"""The chainrule playground's network, rebuilt and trained in plain chainrule."""

from functools import partial

import numpy as np

import chainrule as cr
from chainrule.playground.datasets import features, make_dataset, split

FEATURES = {list(c.features)!r}
EPOCHS = {int(epochs)}
INIT = {_INIT_CODE[c.init]}

points, labels = make_dataset({c.dataset!r}, n=500, noise={c.noise / 100!r}, seed={c.seed})
train_points, y_train, test_points, y_test = split(points, labels, {c.train_percent})
X_train, X_test = features(train_points, FEATURES), features(test_points, FEATURES)
y_train = y_train.reshape(-1, 1).astype(np.float32)
y_test = y_test.reshape(-1, 1).astype(np.float32)

rng = np.random.default_rng({c.seed})
model = cr.nn.Sequential(
{layers}
)
loss = cr.nn.{loss}()
optimizer = {_optimizer_code(c)}
batch_size = {batch[c.regime]}  # the "{c.regime}" regime of gradient descent

for epoch in range(EPOCHS):
    model.train()
    order = rng.permutation(len(X_train))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        optimizer.zero_grad()
        E = loss(model(cr.Tensor(X_train[batch])), y_train[batch]){penalty}
        E.backward()  # every weight's .grad is now ∂E/∂w = δ · z
        optimizer.step()

model.eval()
with cr.no_grad():
    test_loss = loss(model(cr.Tensor(X_test)), y_test).item()
print(f"test loss after {{EPOCHS}} epochs: {{test_loss:.4f}}")
cr.save(model, "playground.chainrule")
'''
