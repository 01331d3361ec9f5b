"""`cr.fit`: train a model with gradient descent in one call."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.autograd import Tensor
from chainrule.rng import Seed
from chainrule.training.callbacks import Callback
from chainrule.training.history import History
from chainrule.training.metrics import Metric
from chainrule.training.trainer import Trainer


# The run's keywords are spelled out again (not **kwargs) although most go on to Trainer.fit:
# cr.fit is the public entry point, and help(), the docs and type checkers read this signature.
def fit(
    model: Any,
    loss: Callable[..., Tensor],
    optimizer: Any,
    X: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int | None = 32,
    shuffle: bool = True,
    validation_data: tuple[Any, ...] | None = None,
    validation_split: float = 0.0,
    callbacks: Sequence[Callback] = (),
    seed: Seed = None,
    progress: bool = True,
    resume_from: str | os.PathLike[str] | None = None,
    metrics: Sequence[str | Metric] | None = None,
    scheduler: Any = None,
    sample_weight: Any = None,
    batch_transform: Callable[..., tuple[Any, Any]] | None = None,
) -> History:
    """Train `model` on (X, y) by gradient descent; return the per-epoch `History`.

    Every step takes a batch of rows, runs forward propagation, computes E = loss(ŷ, y), runs
    backpropagation (``E.backward()``) and calls ``optimizer.step()`` once: w ← w − η ∂E/∂w for
    plain gradient descent, where ∂E/∂w is the average gradient over the batch.

    Parameters
    ----------
    model : chainrule.nn.Module
        Put in training mode for the training steps and in evaluation mode (with no graph
        recorded) for validation; it is left in the mode it had before the call.
    loss : callable
        ``loss(prediction, target)`` (or ``loss(prediction, target, sample_weight)``) returning
        a scalar Tensor, e.g. ``cr.nn.CrossEntropyLoss()``.
    optimizer : chainrule.optim.Optimizer
        Its ``step()`` runs once per batch, after ``zero_grad()`` and the backward pass.
    X : array_like, shape (n_samples, ...)
        Inputs, numeric and finite; converted to the dtype of the model's parameters.
    y : array_like, shape (n_samples, ...)
        Targets as the loss expects them (class indices for `CrossEntropyLoss`).
    epochs : int
        Passes over the training data (the total, counting epochs restored by `resume_from`).
    batch_size : int or None
        ``None``: batch gradient descent (all samples each step, one step per epoch); ``1``:
        stochastic gradient descent; ``k``: minibatch gradient descent with ⌈n/k⌉ steps per
        epoch, the last batch holding the remainder.
    shuffle : bool
        Visit the samples in a new random order each epoch.
    validation_data : tuple, optional
        ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``, scored after each epoch
        (``val_loss`` and ``val_<metric>`` in the history).
    validation_split : float
        Instead of `validation_data`: hold out this fraction of (X, y), chosen at random.
        (Stratify by class with `chainrule.data.train_val_split` and pass `validation_data`.)
    callbacks : list of Callback
        E.g. ``EarlyStopping``, ``ModelCheckpoint``, ``CSVLogger``; see `chainrule.callbacks`.
    seed : int, numpy.random.Generator or None
        Makes the run reproducible bit for bit. An int seeds the shuffling and re-seeds the
        library (``cr.set_seed(seed)``: dropout masks and other draws). A generator is used
        for shuffling as is. None shuffles with the library's generator, so ``cr.set_seed``
        before building the model makes the whole script reproducible.
    progress : bool
        Show a progress bar (epoch, step, loss, validation numbers, ETA) on standard error
        when it is a terminal, or in a Jupyter notebook (tqdm's notebook bar); tqdm is used
        when installed. Never shown elsewhere (pipes, logs): add
        ``chainrule.training.progress.EpochLog()`` to `callbacks` for one line per epoch.
    resume_from : str or os.PathLike, optional
        A checkpoint written by ``ModelCheckpoint``: restore the model, optimizer, callbacks,
        random generators, history and epoch count, and train the remaining epochs. With the
        same arguments as the interrupted run, the final weights equal those of an
        uninterrupted run bit for bit.
    metrics : list of str or callable, optional
        ``"accuracy"``, ``"mse"``, ``"mae"`` or functions ``f(y_true, y_pred) -> float`` on raw
        outputs, logged for training and validation data.
    scheduler : chainrule.optim.schedules schedule, optional
        Stepped after each epoch (with ``val_loss`` when there is validation data, else
        ``loss``, which `ReduceLROnPlateau` monitors). Same as adding
        ``LearningRateScheduler(scheduler)`` to `callbacks`.
    sample_weight : array_like, shape (n_samples,), optional
        Non-negative per-sample weights, passed to the loss with each batch.
    batch_transform : callable, optional
        ``batch_transform(X_batch, y_batch, rng) -> (X_batch, y_batch)``, applied to every
        training batch before its forward pass, and never to validation data: data
        augmentation (``chainrule.augment``: ``gaussian_noise``, ``mixup``, ``random_shift``).
        `rng` is the run's own generator (the one that shuffles, seeded by `seed` and saved in
        checkpoints), so a seeded run is reproducible and a resumed one bit-identical. The
        function must not modify its inputs in place (they may be views of `X`, or buffers
        reused for the next batch) and must keep inputs and targets row for row (and the row
        count, with `sample_weight`). Targets returned as ``chainrule.augment.MixedTargets``
        (mixup) make the batch loss λ E(ŷ, y_a) + (1 − λ) E(ŷ, y_b), and the training
        metrics the same mix. ``history["loss"]`` is then the loss on the transformed batches.

    Returns
    -------
    History
        ``history["loss"]`` (mean batch loss per epoch, weighted by batch size),
        ``history["val_loss"]``, metrics, ``history["lr"]``; ``history.history`` is the dict.

    Raises
    ------
    ValueError
        Invalid data or arguments, before any training step.
    chainrule.TrainingDiverged
        The loss (or, after a step, a weight) became NaN or infinite. The message names the
        epoch and step; the model keeps its last finite weights.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(np.int64)
    >>> model = cr.nn.Sequential(cr.nn.Dense(2, 8), cr.nn.Tanh(), cr.nn.Dense(8, 2))
    >>> opt = cr.optim.SGD(model.parameters(), lr=0.5)
    >>> history = cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=20, seed=0,
    ...                  progress=False)
    >>> history["loss"][-1] < history["loss"][0]
    True
    """
    trainer = Trainer(
        model,
        loss,
        optimizer,
        callbacks=callbacks,
        metrics=metrics,
        scheduler=scheduler,
        progress=progress,
    )
    return trainer.fit(
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        validation_data=validation_data,
        validation_split=validation_split,
        sample_weight=sample_weight,
        seed=seed,
        resume_from=resume_from,
        batch_transform=batch_transform,
    )
