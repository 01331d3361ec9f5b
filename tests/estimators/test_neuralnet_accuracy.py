"""The accuracy the convolutional networks promise (issue: types of layers), slow."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import chainrule as cr
from chainrule import nn
from chainrule.data.datasets import shifted_patterns


def digits_cnn(input_shape, n_outputs):
    # He initialization (the fans of a convolution: channels × kernel size) for the ReLU layers
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, init="he_uniform"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, init="he_uniform"),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dense(32, n_outputs),
    )


def signal_cnn(input_shape, n_outputs):
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2),
        nn.ReLU(),
        nn.Conv1d(25, 25, 5, stride=2),
        nn.ReLU(),
        nn.Conv1d(25, 25, 5, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dense(50, n_outputs),
    )


@pytest.mark.slow
def test_digits_cnn_reaches_98_percent_mean_of_three_seeds():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    scores = []
    for seed in range(3):
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y
        )
        clf = cr.NeuralNetClassifier(
            digits_cnn,
            input_shape=(1, 8, 8),
            epochs=150,
            learning_rate=5e-3,
            lr_schedule="cosine",
            l2=0.0,
            tol=None,
            random_state=seed,
        )
        scores.append(clf.fit(X_tr, y_tr).score(X_te, y_te))
    assert np.mean(scores) >= 0.98, scores


@pytest.mark.slow
def test_signal_cnn_beats_the_best_mlp_of_equal_size_by_ten_points():
    gaps = []
    for seed in range(3):
        X, y = shifted_patterns(1500, random_state=seed)
        X = X.reshape(len(X), -1)
        X_tr, y_tr, X_te, y_te = X[:500], y[:500], X[500:], y[500:]
        common = {"epochs": 150, "batch_size": 100, "tol": None, "random_state": seed}
        cnn = cr.NeuralNetClassifier(signal_cnn, input_shape=(1, 40), learning_rate=5e-3, **common)
        cnn_score = cnn.fit(X_tr, y_tr).score(X_te, y_te)
        mlps = [cr.MLPClassifier(hidden_layer_sizes=h, **common) for h in [(147,), (62, 62)]]
        n_cnn = cnn.model_.num_parameters()
        best = 0.0
        for mlp in mlps:
            mlp.fit(X_tr, y_tr)
            assert abs(mlp.model_.num_parameters() - n_cnn) / n_cnn < 0.02  # equal size
            best = max(best, mlp.score(X_te, y_te))
        gaps.append(cnn_score - best)
    assert np.mean(gaps) >= 0.10, gaps
