"""`Ensemble`: the recipe's last step, "squeeze out the juice" by averaging several networks.

Networks trained from different random initializations (and minibatch orders) end in
different minima and make partly independent errors; averaging their outputs cancels part of
those errors. A classifier ensemble averages the members' class probabilities (soft voting),
p̄(k | x) = (1/M) Σ_m p_m(k | x), and predicts argmax_k p̄; a regressor ensemble averages the
predictions, ŷ = (1/M) Σ_m ŷ_m. With ``bootstrap=True`` each member also trains on its own
bootstrap sample of the rows (bagging; stratified by class for classifiers, so every member
sees every class). Members are independent jobs, trained in parallel on Dask when asked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted

from chainrule.estimators.base import store_params
from chainrule.recipe._common import base_seed, job_seed, positive_int, seeded
from chainrule.recipe._dask import runner, worker_address

__all__ = ["Ensemble"]


def _bootstrap(y: np.ndarray, classifier: bool, rng: np.random.Generator) -> np.ndarray:
    """Row indices drawn with replacement (n of them), within each class for classifiers."""
    n = len(y)
    if not classifier or y.ndim > 1:
        return rng.integers(0, n, size=n)
    _, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    parts = [
        rng.choice(rows, size=len(rows))
        for rows in (np.flatnonzero(codes == c) for c in range(int(codes.max()) + 1))
    ]
    return np.sort(np.concatenate(parts))


def fit_member(
    data: tuple[Any, Any], estimator: Any, seed: int, bootstrap: bool
) -> tuple[Any, str | None, int]:
    """Train one member (a Dask job): (fitted estimator, worker address, id of the data)."""
    X, y = data
    est = seeded(estimator, seed)
    if bootstrap:
        # Its own stream, independent of the network's initialization drawn from `seed`.
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        rows = _bootstrap(np.asarray(y), is_classifier(est), rng)
        if issparse(X):
            X = X.tocsr()  # a format that can select rows
        elif not hasattr(X, "iloc"):  # keep DataFrames (column names); others as arrays
            X = np.asarray(X)
        est.fit(_safe_indexing(X, rows), _safe_indexing(y, rows))
    else:
        est.fit(X, y)
    return est, worker_address(), id(data)


class Ensemble(MetaEstimatorMixin, BaseEstimator):
    """Average of `n_members` copies of `estimator` trained with different seeds.

    A scikit-learn estimator: a classifier when `estimator` is one (``predict``,
    ``predict_proba``, ``score`` = accuracy), else a regressor (``predict``, ``score`` = R²).

    Parameters
    ----------
    estimator : estimator, default=None
        The member (cloned for each); None means ``chainrule.MLPClassifier()``. Every
        ``random_state`` parameter in it (also inside a Pipeline) is set to the member's seed.
    n_members : int, default=5
        M, the number of members.
    bootstrap : bool, default=False
        Train each member on a bootstrap sample of the rows (stratified for classifiers).
    scheduler : str or distributed.Client, optional
        Train the members on this Dask cluster (``"tcp://host:8786"``). An address keeps the
        ensemble clonable; a Client object works but is not copied by `sklearn.base.clone`.
    n_workers : int, optional
        Train them on a local Dask cluster of this many processes (started and closed in fit).
    random_state : int, optional
        Seeds the members: member m gets a seed derived from (random_state, m), wherever it is
        trained. None draws one from chainrule's generator (see `cr.set_seed`).

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    member_seeds_ : list of int
    workers_ : list of str or None
        The Dask worker that trained each member (None: this process).
    classes_ : ndarray
        The class labels (classifiers).
    n_features_in_ : int
    """

    def __init__(
        self,
        estimator: Any = None,
        n_members: int = 5,
        bootstrap: bool = False,
        scheduler: Any = None,
        n_workers: int | None = None,
        random_state: int | None = None,
    ) -> None:
        store_params(self, locals())

    def _base(self) -> Any:
        if self.estimator is None:
            from chainrule.estimators import MLPClassifier

            return MLPClassifier()
        return self.estimator

    def fit(self, X: Any, y: Any) -> Ensemble:
        """Train the members on (X, y), in parallel on Dask when asked; returns self."""
        from sklearn.utils.multiclass import (
            check_classification_targets,
            type_of_target,
            unique_labels,
        )

        n = positive_int("n_members", self.n_members)
        if not isinstance(self.bootstrap, bool | np.bool_):
            raise ValueError(f"bootstrap must be True or False, got {self.bootstrap!r}")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        base = clone(self._base())
        check_consistent_length(X, y)  # X itself goes to the members as given (a DataFrame, ...)
        y_arr = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        self._multilabel = False
        if is_classifier(base):
            check_classification_targets(y_arr)
            self._multilabel = type_of_target(y_arr) == "multilabel-indicator"
            self.classes_ = unique_labels(y_arr)
        seed = base_seed(self.random_state)
        self.member_seeds_ = [job_seed(seed, m) for m in range(n)]
        jobs = [(base, s, bool(self.bootstrap)) for s in self.member_seeds_]
        with runner(self.scheduler, self.n_workers, (X, y_arr)) as run:
            results = run.map(fit_member, jobs)
        self.estimators_ = [r[0] for r in results]
        self.workers_ = [r[1] for r in results]
        self._data_ids = [r[2] for r in results]
        first = self.estimators_[0]
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _member_proba(self, member: Any, X: Any) -> np.ndarray:
        """A member's probabilities in the columns of `classes_` (a class it never saw: 0)."""
        if hasattr(member, "predict_proba"):
            p, cols = np.asarray(member.predict_proba(X), dtype=np.float64), member.classes_
        else:  # hard vote: the predicted class gets probability 1
            pred = member.predict(X)
            cols = self.classes_
            p = (np.asarray(pred)[:, None] == cols[None, :]).astype(np.float64)
        out = np.zeros((p.shape[0], len(self.classes_)))
        out[:, np.searchsorted(self.classes_, cols)] = p
        return out

    @available_if(lambda self: is_classifier(self._base()))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the members' class probabilities, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        return sum(self._member_proba(m, X) for m in self.estimators_) / len(self.estimators_)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of the averaged probabilities, or the mean prediction."""
        check_is_fitted(self)
        if is_classifier(self._base()):
            proba = self.predict_proba(X)
            if self._multilabel:  # each label on its own: present when p̄ > 1/2
                return (proba > 0.5).astype(int)
            return self.classes_[np.argmax(proba, axis=1)]
        preds = [np.asarray(m.predict(X), dtype=np.float64) for m in self.estimators_]
        return np.mean(preds, axis=0)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classifier) or R² (regressor) of the ensemble's predictions."""
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if is_classifier(self._base()) else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def member_scores(self, X: Any, y: Any) -> list[float]:
        """Each member's own score on (X, y): how much the average gains over one network."""
        check_is_fitted(self)
        return [float(m.score(X, y)) for m in self.estimators_]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        base = get_tags(self._base())
        tags.estimator_type = base.estimator_type
        tags.classifier_tags = base.classifier_tags
        tags.regressor_tags = base.regressor_tags
        tags.input_tags = base.input_tags
        tags.target_tags = base.target_tags
        return tags
