"""The estimators' ``augment=``: training minibatches only, seeded, mixup's mixed loss with the
penalties counted once, names checked at fit, clone-safe, and saved by name."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import chainrule as cr
from chainrule.data.augment import MixedTargets, gaussian_noise
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.training import Callback

RNG = np.random.default_rng(0)
X = RNG.normal(size=(80, 4)).astype(np.float32)
Y_CLASS = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
Y_REG = X[:, 0] - X[:, 2]


class Spy:
    """An augmentation that records the batches it sees and returns them unchanged."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, Xb, yb, rng):
        assert isinstance(rng, np.random.Generator)
        self.sizes.append(len(Xb))
        return Xb, yb


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_augmentation_sees_training_batches_only(cls):
    spy = Spy()
    y = Y_CLASS if cls is MLPClassifier else Y_REG
    est = cls(
        hidden_layer_sizes=(8,),
        epochs=3,
        batch_size=16,
        early_stopping=True,
        validation_fraction=0.25,
        tol=None,
        augment=spy,
        random_state=0,
    )
    est.fit(X, y)
    assert spy.sizes == [16, 16, 16, 12] * 3  # 60 training rows a epoch, not the 20 held out
    calls = len(spy.sizes)
    est.predict(X)
    est.score(X, y)
    if cls is MLPClassifier:
        est.predict_proba(X)
    assert len(spy.sizes) == calls  # prediction is never augmented
    est.set_params(early_stopping=False)  # partial_fit refuses early stopping (scikit-learn too)
    est.partial_fit(X, y)  # training again: one more epoch of batches, all rows
    assert spy.sizes[calls:] == [16] * 5


@pytest.mark.parametrize("augment", ["noise", "mixup", ["noise", "mixup"]])
def test_augmented_fits_are_reproducible_and_change_training(augment):
    def fit(augment, seed):
        est = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, augment=augment, random_state=seed)
        return est.fit(X, Y_CLASS).predict_proba(X)

    a = fit(augment, 0)
    assert np.array_equal(a, fit(augment, 0))
    assert not np.array_equal(a, fit(augment, 1))
    assert not np.array_equal(a, fit(None, 0))


def test_noise_regularizes_a_network_that_overfits():
    # 30 noisy samples and a wide network without penalties: it fits the training labels
    # closely; input noise (σ = 0.5 on unit-variance features) keeps it from doing so.
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(30, 5)).astype(np.float32)
    ys = (Xs[:, 0] + rng.normal(scale=1.0, size=30) > 0).astype(int)
    params = {
        "hidden_layer_sizes": (64,),
        "learning_rate": 0.01,
        "epochs": 150,
        "l2": 0.0,
        "tol": None,
    }
    plain = MLPClassifier(**params, random_state=0).fit(Xs, ys)
    noisy = MLPClassifier(**params, augment=partial(gaussian_noise, sigma=0.5), random_state=0).fit(
        Xs, ys
    )

    def train_loss(est):  # cross-entropy on the clean training data
        p = est.predict_proba(Xs)[np.arange(len(ys)), ys]
        return float(-np.log(p).mean())

    assert train_loss(plain) < 0.05
    assert train_loss(noisy) > 5 * train_loss(plain)


class Snapshot(Callback):
    """Keeps the weights as they were when training began."""

    def on_train_begin(self, trainer):
        self.weights = trainer.model.state_dict()


def test_mixup_loss_is_soft_target_cross_entropy_plus_the_penalty_once():
    # A linear classifier, one step of batch gradient descent in float64, with a fixed mix.
    Xd, y = X.astype(np.float64)[:12], np.array(list("abc") * 4)
    lam, perm = 0.3, np.roll(np.arange(12), 5)

    def fixed_mixup(Xb, yb, rng):
        return lam * Xb + (1 - lam) * Xb[perm], MixedTargets(yb, yb[perm], lam)

    snap, eta, l2 = Snapshot(), 0.1, 0.05
    est = MLPClassifier(
        hidden_layer_sizes=(),
        optimizer="sgd",
        learning_rate=eta,
        l2=l2,
        batch_size=None,
        epochs=1,
        shuffle=False,
        dtype="float64",
        augment=fixed_mixup,
        callbacks=[snap],
        random_state=0,
    ).fit(Xd, y)
    W0, b0 = snap.weights["0.weight"], snap.weights["0.bias"]
    X_mix = lam * Xd + (1 - lam) * Xd[perm]
    onehot = np.eye(3)[np.searchsorted(est.classes_, y)]
    soft = lam * onehot + (1 - lam) * onehot[perm]
    a = X_mix @ W0.T + b0
    log_p = a - a.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    E = -(soft * log_p).sum() / 12 + 0.5 * l2 * (W0**2).sum()
    assert est.loss_curve_[0] == pytest.approx(E, rel=1e-10)
    delta = (np.exp(log_p) - soft) / 12  # δ = ∂E/∂a
    W1 = W0 - eta * (delta.T @ X_mix + l2 * W0)
    np.testing.assert_allclose(est.model_[0].weight.data, W1, rtol=1e-10)


def test_mixup_trains_a_regressor_and_a_weighted_classifier():
    # tol=None: the loss of mixed batches is noisy, so the training-loss plateau rule would
    # stop early (see the `augment` docs).
    params = {"hidden_layer_sizes": (16,), "epochs": 150, "learning_rate": 0.01, "tol": None}
    reg = MLPRegressor(**params, augment="mixup", random_state=0)
    assert reg.fit(X, Y_REG).score(X, Y_REG) > 0.95
    w = np.where(Y_CLASS == 1, 2.0, 1.0)
    clf = MLPClassifier(**params, augment="mixup", random_state=0)
    assert clf.fit(X, Y_CLASS, sample_weight=w).score(X, Y_CLASS) > 0.95


def test_shift_reads_rows_as_square_images():
    images = np.random.default_rng(0).random((40, 16)).astype(np.float32)  # 4×4
    labels = np.arange(40) % 2
    MLPClassifier(hidden_layer_sizes=(4,), epochs=2, augment="shift").fit(images, labels)
    with pytest.raises(ValueError, match="image-shaped"):
        MLPClassifier(epochs=2, augment="shift").fit(images[:, :15], labels)


@pytest.mark.parametrize("bad", ["rotate", 3, ["noise", "flip"], {"noise": 0.1}])
def test_invalid_augmentations_are_rejected_at_fit(bad):
    est = MLPClassifier(augment=bad)  # __init__ only stores
    assert est.augment is bad
    with pytest.raises(ValueError, match=r"augment=.*'noise', 'mixup', 'shift'"):
        est.fit(X, Y_CLASS)


def test_clone_keeps_the_augmentation():
    noisy = partial(gaussian_noise, sigma=0.2)
    est = MLPClassifier(epochs=3, augment=["mixup", noisy], random_state=0)
    twin = clone(est)
    assert twin.get_params()["augment"][0] == "mixup"
    np.testing.assert_array_equal(
        est.fit(X, Y_CLASS).predict_proba(X), twin.fit(X, Y_CLASS).predict_proba(X)
    )


@pytest.mark.parametrize("augment", ["noise", ["mixup", "noise"]])
def test_save_and_load_keep_augmentation_names(tmp_path, augment):
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, augment=augment, random_state=0)
    est.fit(X, Y_CLASS)
    cr.save(est, tmp_path / "m.crz")
    loaded = cr.load(tmp_path / "m.crz")
    assert loaded.get_params()["augment"] == augment
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    # A refit of the loaded estimator trains with the same augmentation.
    again = loaded.set_params(warm_start=False).fit(X, Y_CLASS)
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))


def test_save_drops_an_augmentation_function_with_a_warning(tmp_path):
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0)
    est.set_params(augment=["noise", partial(gaussian_noise, sigma=0.3)]).fit(X, Y_CLASS)
    with pytest.warns(UserWarning, match="cannot hold"):
        cr.save(est, tmp_path / "m.crz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = cr.load(tmp_path / "m.crz")
    assert loaded.augment is None
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


# scikit-learn's own checks with mixup on: class labels of any kind, sample weights, clones.
# (Weighted and repeated samples draw different mixes, so that equivalence cannot hold.)
@parametrize_with_checks(
    [MLPClassifier(epochs=10, augment="mixup"), MLPRegressor(epochs=10, augment="noise")],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": "augmentation draws differ",
        "check_sample_weight_equivalence_on_sparse_data": "augmentation draws differ",
        **(
            {"check_methods_subset_invariance": "float32 rounding, see test_mlp_sklearn_checks"}
            if isinstance(est, MLPRegressor)
            else {
                "check_class_weight_classifiers": "mixup blends each row, with its class "
                "weight, with another row's target, so a class weight also weighs other classes"
            }
        ),
    },
)
@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_sklearn_compatible_with_augmentation(estimator, check):
    check(estimator)
