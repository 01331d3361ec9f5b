"""`MLPClassifier`: a multilayer perceptron with a softmax output, as a scikit-learn classifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from chainrule.estimators import inference
from chainrule.estimators.base import Array, BaseMLP, store_params
from chainrule.estimators.class_weight import check_class_weight, sample_weights
from chainrule.estimators.params import Config

# Class frequencies below this are clipped before their logarithm sets the output bias: a class
# with no (weighted) samples would otherwise start at log 0 = −∞.
_MIN_PRIOR = 1e-3


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier trained by backpropagation (scikit-learn API).

    The network is the lecture's feed-forward net: for k = 1 … K,
    a⁽ᵏ⁾ = W⁽ᵏ⁾ z⁽ᵏ⁻¹⁾ + b⁽ᵏ⁾ and z⁽ᵏ⁾ = σ(a⁽ᵏ⁾), with z⁽⁰⁾ = x, one hidden layer per entry of
    `hidden_layer_sizes` and an output layer of one unit per class. The output a⁽ᴷ⁾ holds
    logits: ``predict_proba`` is softmax(a⁽ᴷ⁾) and training minimises the cross-entropy
    E = −(1/N) Σₙ log pₙ,ᵧₙ (plus the penalties) by gradient descent, w ← w − η ∂E/∂w, with the
    chosen optimizer. Binary problems use the same two-unit softmax (``predict_proba`` has
    shape (n, 2)); a 2-d 0/1 indicator ``y`` is a multilabel problem, learned with one sigmoid
    unit and a binary cross-entropy per label.

    The output bias starts at the log of the class frequencies, so the untrained network
    predicts the base rates (Karpathy's "init well" step of the training recipe).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Units N_k of each hidden layer; ``()`` gives a linear model (logistic regression).
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"}, default="relu"
        σ of the hidden layers.
    optimizer : {"adam", "adamw", "rmsprop", "sgd", "momentum", "nesterov"}, default="adam"
        The gradient-descent rule (``"momentum"`` is SGD with μ = 0.9, ``"nesterov"`` its
        Nesterov form).
    learning_rate : float, default=2e-3
        η, the step size (the initial one when `lr_schedule` is set). The default suits the
        adaptive optimizers (Adam, AdamW, RMSprop); plain gradient descent ("sgd") usually
        wants 0.01 to 0.1.
    batch_size : int or None, default=64
        Samples per gradient step: ``None`` is batch gradient descent (the whole training set
        per step), ``1`` stochastic gradient descent, ``k`` minibatch gradient descent.
    epochs : int, default=200
        The most passes over the training data (training may stop earlier, see `tol`).
    l1 : float, default=0.0
        λ of the L1 penalty λ Σ|w| (``chainrule.nn.l1_penalty``) added to each minibatch's loss.
    l2 : float, default=1e-3
        λ of the L2 penalty ½ λ Σ w² (``chainrule.nn.l2_penalty``) added to each minibatch's
        loss. Biases and batch-norm parameters are never penalized.
    dropout : float, default=0.0
        Fraction of each hidden layer's units dropped in training (the lecture's keep
        probability p is 1 − dropout).
    batch_norm : bool, default=False
        Batch normalization between each hidden layer's a = W z + b and its σ.
    init : {"auto", "xavier", "he", "normal", "zeros"}, default="auto"
        Weight initialization: "auto" is He for ReLU networks of 3 or more hidden layers and
        Xavier (Glorot) otherwise. "zeros" shows the lecture's symmetry problem (every hidden
        unit stays the same); "normal" is N(0, 0.05²) whatever the layer size.
    early_stopping : bool, default=False
        Hold out `validation_fraction` of the data (stratified), stop when the validation loss
        has not improved by `tol` for `patience` epochs and restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when `early_stopping` is on.
    patience : int, default=10
        Epochs without improvement before stopping.
    tol : float or None, default=1e-4
        The least improvement that counts. Without early stopping, training stops once the
        training loss has not fallen by `tol` for `patience` epochs (as scikit-learn's MLP
        does); ``tol=None`` always runs all `epochs`. When `epochs` run out before a stopping
        rule is met, `fit` warns with scikit-learn's ``ConvergenceWarning`` (not with
        ``tol=None``, which promises no convergence).
    lr_schedule : {None, "step", "exponential", "cosine", "plateau"}, default=None
        A learning-rate schedule over the epochs of one `fit` (`chainrule.optim.schedules`).
    shuffle : bool, default=True
        Reshuffle the training data every epoch.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds initialization, shuffling, dropout and the validation split. None draws from
        chainrule's default generator (`cr.set_seed`).
    verbose : bool, default=False
        Report training as it goes: a progress bar in a terminal (tqdm's notebook bar in
        Jupyter), and elsewhere (CI logs, redirected output) one line per epoch on standard
        output, as scikit-learn's ``Iteration 3, loss = 0.41234567``.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the weights and computations. float32 input is used without a copy.
    warm_start : bool, default=False
        `fit` continues from the current weights instead of starting afresh.
    callbacks : list of chainrule.training.Callback, default=None
        Extra callbacks, called after each epoch with the trainer and the epoch's ``logs``:
        ``"loss"``, ``"lr"`` and, with early stopping, ``"val_loss"`` and ``"val_score"`` (the
        accuracy on the held-out data), so that a tuner can prune bad trials while they
        train; setting ``trainer.stop_training = True`` ends training. Like every parameter,
        the list is deep-copied by `sklearn.base.clone` (and so by grid searches).
    augment : {None, "noise", "mixup", "shift"}, callable or list, default=None
        Data augmentation of each training minibatch (never of the validation data or of
        predictions), drawing from the same seeded generator as the shuffling, so a fit with
        an int `random_state` is reproducible. "noise" adds Gaussian noise N(0, 0.1²) to the
        inputs (meant for standardized features); "mixup" trains on convex combinations
        λ xᵢ + (1 − λ) xⱼ, λ ~ Beta(0.2, 0.2), with the loss mixed the same way,
        λ E(ŷ, yᵢ) + (1 − λ) E(ŷ, yⱼ) (the cross-entropy against the mixed one-hot target);
        "shift" moves each row, read as a square image (8×8 digits), by up to one pixel. A
        function ``f(X, y, rng) -> (X, y)`` from `chainrule.augment` (options set with
        `functools.partial`) or of your own works too, and a list applies several in order.
        ``loss_curve_`` is then the loss on the augmented batches, noisier (with mixup
        especially), so the training-loss plateau rule of `tol` may stop too early: prefer
        ``early_stopping=True`` or ``tol=None``. `cr.save` stores names only: a function is
        dropped from the file, with a warning.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss, for imbalanced data, as in scikit-learn's
        classifiers (Keras's ``fit(class_weight=...)`` is the same idea, keyed by class index
        instead of label): ``{label: weight}`` (labels left out weigh 1), or "balanced",
        n / (k · n_c) for class c with n_c of the n samples and k classes, so every class
        weighs the same in total. Each sample's term wₙ Eₙ then has wₙ = sample_weight[n] ·
        class_weight[yₙ], and the held-out loss and accuracy of early stopping are weighted
        the same way. "balanced" is not available in `partial_fit` (one batch does not show
        the class frequencies); not for multilabel ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (for multilabel ``y``, ``arange(n_labels)``).
    model_ : chainrule.nn.Sequential
        The trained network (in evaluation mode).
    optimizer_ : chainrule.optim.Optimizer
        Its optimizer, kept for `partial_fit`.
    history_ : chainrule.training.History
        Per-epoch logs of the last `fit` / `partial_fit` call.
    loss_curve_ : list of float
        Training loss per epoch, over all calls (continued by `warm_start` and `partial_fit`).
    best_loss_ : float
        Its minimum.
    validation_scores_ : list of float or None
        Accuracy on the held-out data per epoch (None without early stopping).
    best_validation_score_ : float or None
        Its maximum.
    n_iter_ : int
        Epochs run by the last `fit` (1 after `partial_fit`), as in scikit-learn; with
        `warm_start`, each `fit` runs up to `epochs` more.
    best_epoch_ : int
        The (1-based) epoch of the last `fit` whose weights the network holds: the best
        validation epoch with `early_stopping`, else the last epoch run.
    stopped_by_ : str
        What ended the last `fit`: ``"epochs"`` (all of them ran), ``"early_stopping"``,
        ``"tol"`` (the training-loss plateau rule) or ``"callback"``.
    n_features_in_ : int
        Number of features seen in `fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when `X` was a DataFrame with string column names.
    n_outputs_ : int
        Units of the output layer.

    Notes
    -----
    `X` may be a SciPy sparse matrix (e.g. TF-IDF features): it stays sparse, and training and
    prediction densify one minibatch (or chunk) at a time, so memory follows the batch size,
    not the data. `docs/sklearn-compat.md` lists where behaviour follows scikit-learn's
    ``MLPClassifier`` and where it differs.

    Like scikit-learn's own MLP, the network sees the features as given: scale them first,
    e.g. ``make_pipeline(StandardScaler(), cr.MLPClassifier())``, which usually trains faster
    and better.

    The defaults (100 ReLU units, Adam with η = 2·10⁻³, minibatches of 64, λ₂ = 10⁻³, Xavier
    weights, at most 200 epochs) were chosen on scikit-learn's small datasets, scaled and raw;
    ``benchmarks/estimators_vs_sklearn.py`` compares them with scikit-learn's MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> import chainrule as cr
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), cr.MLPClassifier(random_state=0)).fit(X, y)
    >>> model.score(X, y) > 0.95
    True
    >>> model.predict_proba(X[:1]).shape
    (1, 3)
    """

    _is_classifier = True

    # The signature scikit-learn requires (see the note on BaseMLP.__init__).
    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] | int = (100,),
        activation: str = "relu",
        optimizer: str = "adam",
        learning_rate: float = 2e-3,
        batch_size: int | None = 64,
        epochs: int = 200,
        l1: float = 0.0,
        l2: float = 1e-3,
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "auto",
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        tol: float | None = 1e-4,
        lr_schedule: str | None = None,
        shuffle: bool = True,
        random_state: Any = None,
        verbose: bool = False,
        dtype: Any = "float32",
        warm_start: bool = False,
        callbacks: Sequence[Any] | None = None,
        augment: Any = None,
        class_weight: str | Mapping[Any, float] | None = None,
    ) -> None:
        store_params(self, locals())

    def _check_params(self) -> Config:
        config = super()._check_params()
        check_class_weight(self.class_weight)
        return config

    def _class_weights(self, y: Array, incremental: bool) -> Array | None:
        """Each sample's class weight (None without `class_weight`); see `sample_weights`."""
        if self.class_weight is None:
            return None
        return sample_weights(
            self.class_weight,
            self.classes_,
            y,
            incremental=incremental,
            multilabel=self._multilabel,
        )

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, validation_data: Any = None
    ) -> MLPClassifier:
        """Train on X (n_samples, n_features) and labels y; returns self.

        `sample_weight` (n_samples,) weighs each sample's term of the loss.
        `validation_data` ``(X_val, y_val)`` is scored after every epoch (``"val_loss"`` and
        ``"val_score"`` in `history_`, `validation_scores_`) and, with `early_stopping`, used
        for it instead of holding out `validation_fraction` of X.
        """
        return self._fit(X, y, sample_weight, incremental=False, validation_data=validation_data)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> MLPClassifier:
        """One epoch of training on (X, y), continuing from the current weights.

        `classes` (every label that will ever appear) is required on the first call.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ------------------------------------------------------------------ targets
    def _encode_targets(self, y: Any, first: bool, classes: Any, *, warm: bool = False) -> Array:
        y = np.asarray(y)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == "multiclass-multioutput":
            raise ValueError(
                "multiclass-multioutput targets are not supported: use one column of labels, "
                "or a 0/1 indicator matrix for multilabel problems"
            )
        multilabel = kind == "multilabel-indicator"
        if first:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                labels = unique_labels(y) if classes is None else unique_labels(classes)
                if len(labels) < 2:
                    raise ValueError(
                        f"{type(self).__name__} needs samples of at least 2 classes to learn, "
                        f"got 1 class: {labels.tolist()[0]!r}"
                    )
                self.classes_ = labels
            self.n_outputs_ = len(self.classes_)
        else:
            if multilabel != self._multilabel or (multilabel and y.shape[1] != self.n_outputs_):
                raise ValueError("y has a different kind or number of labels than in the first fit")
            if warm and not multilabel and not np.array_equal(unique_labels(y), self.classes_):
                # As scikit-learn: a warm refit continues the same output units, so a y
                # without some class (or with a new one) is an error, not a silent remap.
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has "
                    f"{unique_labels(y)}"
                )
            if classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the first fit, "
                    f"{self.classes_!r}"
                )
        if multilabel:
            return y.astype(self._dtype)
        return self._class_indices(y)

    def _class_indices(self, y: Array) -> Array:
        """Positions of the labels `y` in `classes_` (ValueError for unknown labels)."""
        try:
            positions = np.searchsorted(self.classes_, y)
            positions = np.minimum(positions, len(self.classes_) - 1)
            unknown = self.classes_[positions] != y
        except TypeError:  # labels of a type that does not compare with the classes
            unknown = np.ones(len(y), dtype=bool)
        if np.any(unknown):
            raise ValueError(
                f"y contains labels that are not among the classes {self.classes_!r}: "
                f"{np.unique(y[unknown].astype(str))!r} (new labels need a fresh fit; "
                "partial_fit needs every label in classes= on its first call)"
            )
        return positions.astype(np.intp)

    def _loss_name(self) -> str:
        return "binary_cross_entropy" if self._multilabel else "cross_entropy"

    def _output_bias(self, targets: Array, sample_weight: Array | None) -> Array:
        w = np.ones(len(targets)) if sample_weight is None else sample_weight
        if self._multilabel:
            p = np.clip(np.average(targets, axis=0, weights=w), _MIN_PRIOR, 1 - _MIN_PRIOR)
            return np.log(p) - np.log1p(-p)  # logit, so that σ(b) = p
        p = np.bincount(targets, weights=w, minlength=self.n_outputs_) / w.sum()
        log_p = np.log(np.maximum(p, _MIN_PRIOR))
        return log_p - log_p.mean()  # softmax ignores a shift; keep the biases centred

    def _validation_score(
        self, outputs: Array, targets: Array, sample_weight: Array | None
    ) -> float:
        if self._multilabel:
            correct = np.all((outputs > 0) == (targets > 0.5), axis=1)
        else:
            correct = outputs.argmax(axis=1) == targets
        return float(np.average(correct, weights=sample_weight))

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, shape (n_samples, n_classes): softmax of the output logits.

        For multilabel problems, the independent probability of each label, σ(a⁽ᴷ⁾).
        """
        return inference.class_probabilities(self._forward(X), self._multilabel)

    def predict_log_proba(self, X: Any) -> Array:
        """Log of `predict_proba`, computed stably from the logits (log-softmax)."""
        logits = self._forward(X)
        if self._multilabel:
            return -np.logaddexp(0, -logits)  # log σ(a) = −log(1 + e⁻ᵃ)
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> Array:
        """The most probable class of each row (for multilabel, every label with p > 0.5)."""
        return inference.class_labels(self.predict_proba(X), self.classes_, self._multilabel)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
