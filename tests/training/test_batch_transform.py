"""`cr.fit(batch_transform=...)`: per-batch augmentation in training steps only, seeded,
resumable bit for bit, and mixup's mixed loss equal to cross-entropy on soft targets."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from trainkit import make_data, make_model, same_weights

import chainrule as cr
from chainrule.data.augment import MixedTargets, gaussian_noise, mixup
from chainrule.training import Trainer, load_checkpoint


def _fit(model, X, y, **kw):
    kw.setdefault("epochs", 3)
    kw.setdefault("batch_size", 8)
    kw.setdefault("progress", False)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, **kw)


class Spy:
    """A batch transform that records what it was given, then applies `inner`."""

    def __init__(self, inner=None):
        self.inner = inner
        self.sizes: list[int] = []
        self.rngs: list[np.random.Generator] = []

    def __call__(self, X, y, rng):
        self.sizes.append(len(X))
        self.rngs.append(rng)
        return (X, y) if self.inner is None else self.inner(X, y, rng)


def test_every_training_batch_is_transformed_with_the_runs_generator(data):
    X, y = data  # 60 rows
    spy = Spy()
    model = make_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, cr.nn.CrossEntropyLoss(), opt, progress=False)
    trainer.fit(X, y, epochs=2, batch_size=16, batch_transform=spy, validation_split=0.25)
    assert spy.sizes == [16, 16, 13] * 2  # 45 training rows per epoch; never the 15 held out
    assert all(r is trainer.rng for r in spy.rngs)


def test_validation_and_prediction_see_the_data_untransformed(data):
    X, y = data
    X_val, y_val = make_data(30, seed=1)

    def ruin(Xb, yb, rng):  # training sees only zeros
        return np.zeros_like(Xb), yb

    model = make_model()
    history = _fit(model, X, y, validation_data=(X_val, y_val), batch_transform=ruin)
    model.eval()
    with cr.no_grad():
        by_hand = cr.nn.CrossEntropyLoss()(model(cr.Tensor(X_val)), y_val).item()
        on_zeros = cr.nn.CrossEntropyLoss()(model(cr.Tensor(0 * X_val)), y_val).item()
    assert history["val_loss"][-1] == pytest.approx(by_hand, rel=1e-6)
    assert on_zeros != pytest.approx(by_hand, rel=1e-3)  # so the check above can fail


def test_a_seeded_run_with_augmentation_is_reproducible(data):
    X, y = data
    noisy = partial(gaussian_noise, sigma=0.3)
    runs = {}
    for name, seed, transform in [
        ("a", 3, noisy),
        ("b", 3, noisy),
        ("other seed", 4, noisy),
        ("none", 3, None),
    ]:
        model = make_model()
        _fit(model, X, y, seed=seed, batch_transform=transform)
        runs[name] = model.state_dict()
    assert same_weights(runs["a"], runs["b"])
    assert not same_weights(runs["a"], runs["other seed"])
    assert not same_weights(runs["a"], runs["none"])  # the noise does change training


@pytest.mark.parametrize("transform", [partial(gaussian_noise, sigma=0.2), mixup])
def test_a_resumed_augmented_run_equals_an_uninterrupted_one(tmp_path, data, transform):
    X, y = data

    def run(epochs, checkpoint=None, resume=False):
        model = make_model(dropout=0.2)
        callbacks = [] if checkpoint is None else [cr.ModelCheckpoint(checkpoint)]
        history = _fit(
            model,
            X,
            y,
            epochs=epochs,
            seed=5,
            validation_split=0.2,
            callbacks=callbacks,
            batch_transform=transform,
            resume_from=checkpoint if resume else None,
        )
        return model, history

    full, full_history = run(7)
    path = tmp_path / "ckpt.crz"
    run(3, checkpoint=path)
    assert load_checkpoint(path)["epoch"] == 3
    cr.set_seed(999)  # whatever is drawn in between must not matter
    resumed, history = run(7, checkpoint=path, resume=True)
    assert same_weights(resumed.state_dict(), full.state_dict())
    assert history.history == full_history.history


def test_resuming_with_another_transform_warns(tmp_path, data):
    X, y = data
    path = tmp_path / "ckpt.crz"
    _fit(make_model(), X, y, epochs=1, callbacks=[cr.ModelCheckpoint(path)], batch_transform=mixup)
    with pytest.warns(UserWarning, match="batch_transform=None; the checkpoint was made with"):
        _fit(make_model(), X, y, epochs=2, resume_from=path)


def _soft_cross_entropy(logits, soft):
    """−(1/N) Σₙ Σₖ ỹₙₖ log softmax(a)ₙₖ and its gradient (p − ỹ)/N, by hand."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(logits)
    return -(soft * log_p).sum() / n, (np.exp(log_p) - soft) / n


def test_mixup_step_is_gradient_descent_on_soft_target_cross_entropy():
    # One step of batch gradient descent on a linear model a = W x + b, in float64.
    X, y = make_data(12, d=3, seed=2)
    X = X.astype(np.float64)
    y = np.arange(12) % 3  # three classes
    cr.set_seed(0)
    model = cr.nn.Dense(3, 3, dtype=np.float64)
    W0, b0 = model.weight.data.copy(), model.bias.data.copy()
    eta = 0.5
    history = cr.fit(
        model,
        cr.nn.CrossEntropyLoss(),
        cr.optim.SGD(model.parameters(), lr=eta),
        X,
        y,
        epochs=1,
        batch_size=None,
        shuffle=False,  # nothing drawn but mixup's λ and permutation
        seed=np.random.default_rng(8),
        metrics=["accuracy"],
        batch_transform=partial(mixup, alpha=1.0),
        progress=False,
    )
    # Replay mixup's draws and do the step by hand against the mixed one-hot targets.
    replay = np.random.default_rng(8)
    lam, perm = replay.beta(1.0, 1.0), replay.permutation(12)
    X_mix = lam * X + (1 - lam) * X[perm]
    onehot = np.eye(3)[y]
    soft = lam * onehot + (1 - lam) * onehot[perm]
    logits = X_mix @ W0.T + b0
    E, delta = _soft_cross_entropy(logits, soft)  # δ = ∂E/∂a
    assert history["loss"][0] == pytest.approx(E, rel=1e-12)
    np.testing.assert_allclose(model.weight.data, W0 - eta * delta.T @ X_mix, rtol=1e-12)
    np.testing.assert_allclose(model.bias.data, b0 - eta * delta.sum(axis=0), rtol=1e-12)
    # The training accuracy is mixed the same way: λ acc(y_a) + (1 − λ) acc(y_b).
    guess = logits.argmax(axis=1)
    mixed_acc = lam * np.mean(guess == y) + (1 - lam) * np.mean(guess == y[perm])
    assert history["accuracy"][0] == pytest.approx(mixed_acc)


def test_mixed_targets_loss_equals_soft_cross_entropy_for_any_lambda():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 4))
    y_a, y_b = rng.integers(0, 4, 7), rng.integers(0, 4, 7)
    for lam in (0.0, 0.3, 1.0):
        pairs = MixedTargets(y_a, y_b, lam)
        out = cr.Tensor(logits, requires_grad=True)
        E = pairs.combine(lambda t, out=out: cr.nn.CrossEntropyLoss()(out, t))
        E.backward()
        soft = lam * np.eye(4)[y_a] + (1 - lam) * np.eye(4)[y_b]
        np.testing.assert_allclose(pairs.soft(n_classes=4), soft, rtol=1e-6)
        expected, grad = _soft_cross_entropy(logits, soft)
        assert E.item() == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(out.grad, grad, rtol=1e-10, atol=1e-15)


def test_sample_weights_apply_to_both_terms_of_a_mixed_loss(data):
    X, y = data
    w = np.linspace(0.5, 2.0, len(X))
    model = make_model()
    _fit(model, X, y, epochs=1, sample_weight=w, batch_transform=mixup, seed=0)
    assert all(np.isfinite(v).all() for v in model.state_dict().values())


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        ("noise", "batch_transform must be a function"),
        (lambda X, y, rng: X, "must return a pair"),
        (lambda X, y, rng: (X[:-1], y), "must match"),
    ],
)
def test_bad_transforms_are_rejected(data, transform, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        _fit(make_model(), X, y, batch_transform=transform)


def test_with_sample_weights_a_transform_must_keep_the_rows(data):
    X, y = data

    def double(Xb, yb, rng):
        return np.concatenate([Xb, Xb]), np.concatenate([yb, yb])

    _fit(make_model(), X, y, epochs=1, batch_transform=double)  # fine without weights
    with pytest.raises(ValueError, match="keep the row count"):
        _fit(make_model(), X, y, sample_weight=np.ones(len(X)), batch_transform=double)
