"""Tutorial 10: one network as classifier and regressor, next to the other supervised methods.

Cross-validates cr.MLPClassifier / cr.MLPRegressor against scikit-learn's linear and logistic
regression, k-NN, SVMs, trees, forests, boosting, naive Bayes and LDA/QDA on bundled data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from _page import Page, run_cli
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_friedman1,
    make_moons,
)
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Perceptron
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import chainrule as cr

TITLE = "10. Classification and regression, and the other supervised methods"


# excerpt: models
def classifiers(epochs: int, n_trees: int = 100) -> dict[str, Any]:
    return {
        "logistic regression": LogisticRegression(max_iter=2000),
        "perceptron": Perceptron(random_state=0),
        "k-NN (k = 5)": KNeighborsClassifier(5),
        "SVM (RBF kernel)": SVC(),
        "decision tree": DecisionTreeClassifier(random_state=0),
        "random forest": RandomForestClassifier(n_trees, random_state=0),
        "gradient boosting": HistGradientBoostingClassifier(max_iter=n_trees, random_state=0),
        "naive Bayes": GaussianNB(),
        "LDA": LinearDiscriminantAnalysis(),
        "QDA": QuadraticDiscriminantAnalysis(reg_param=0.1),
        "chainrule MLP": cr.MLPClassifier(
            hidden_layer_sizes=(64, 64), epochs=epochs, random_state=0
        ),
    }


def regressors(epochs: int, n_trees: int = 100) -> dict[str, Any]:
    return {
        "linear regression": LinearRegression(),
        "k-NN (k = 5)": KNeighborsRegressor(5),
        "SVM (RBF kernel)": SVR(),
        "decision tree": DecisionTreeRegressor(random_state=0),
        "random forest": RandomForestRegressor(n_trees, random_state=0),
        "gradient boosting": HistGradientBoostingRegressor(max_iter=n_trees, random_state=0),
        "chainrule MLP": cr.MLPRegressor(
            hidden_layer_sizes=(64, 64), epochs=epochs, random_state=0
        ),
    }


# end excerpt


def compare(models: dict[str, Any], datasets: dict[str, tuple], cv: Any) -> dict:
    """Mean and std of the cross-validated score, and the mean fit time, per model and data."""
    scores: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, model in models.items():
        scores[name] = {}
        for data_name, (X, y) in datasets.items():
            # excerpt: cross_validate
            pipeline = make_pipeline(StandardScaler(), model)  # every model sees scaled inputs
            result = cross_validate(pipeline, X, y, cv=cv)
            # end excerpt
            s = result["test_score"]
            scores[name][data_name] = (
                float(s.mean()),
                float(s.std()),
                float(result["fit_time"].mean()),
            )
    return scores


def score_table(page: Page, scores: dict, metric: str) -> None:
    data_names = list(next(iter(scores.values())))
    rows = []
    for name, per_data in scores.items():
        cells = [f"{m:.3f} ± {s:.3f}" for m, s, _ in per_data.values()]
        fit_ms = 1000 * page.timing(
            f"{metric}: {name}: fit seconds", np.mean([t for _, _, t in per_data.values()])
        )
        label = f"**{name}**" if name.startswith("chainrule") else name
        rows.append([label, *cells, f"{fit_ms:.0f} ms"])
    page.table(["model", *(f"{d}: {metric}" for d in data_names), "mean fit time"], rows)


def main(out_dir: str | Path | None = None, fast: bool = False) -> dict[str, Any]:
    """Build tutorial 10 (classification and regression vs other supervised methods)."""
    page = Page(__file__, TITLE, out_dir, fast)
    results: dict[str, Any] = {}
    epochs = 40 if fast else 200
    n_folds = 3 if fast else 5
    page.text(
        """
        Neural networks are one supervised learning technique among many. The lecture lists
        the others: linear and logistic regression, k-nearest neighbours, the perceptron,
        linear and quadratic discriminant analysis (LDA, QDA), naive Bayes, support vector
        machines, decision trees and random forests, and ensemble methods. Some of them
        predict classes (**classification**), some predict numbers (**regression**), many
        do both. This last tutorial puts chainrule's networks next to all of them.
        """
    )

    # ------------------------------------------------------------------ one network, two tasks
    page.heading("One network, two tasks")
    page.text(
        """
        A network does classification or regression depending only on its **output layer**
        and its **loss**; the hidden layers are the same:

        - `cr.MLPClassifier`: one output unit per class, holding a score aₖ; softmax turns
          the scores into probabilities pₖ = e^(aₖ) / Σⱼ e^(aⱼ); the loss is the
          cross-entropy −log p_y of the true class. Predictions are the most probable class.
        - `cr.MLPRegressor`: one linear output unit per target (no activation), trained on
          the squared error ½(ŷ − y)², the lecture's E. Predictions are the output itself.

        Both follow scikit-learn's estimator API, so they drop into its pipelines,
        cross-validation and grid searches like any other model:
        """
    )
    # excerpt: two_tasks
    X_c, y_c = load_breast_cancer(return_X_y=True)  # 569 tumours, 30 features: benign?
    X_r, y_r = load_diabetes(return_X_y=True)  # 442 patients, 10 features: progression
    clf = make_pipeline(
        StandardScaler(),
        cr.MLPClassifier(hidden_layer_sizes=(64, 64), epochs=epochs, random_state=0),
    )
    reg = make_pipeline(
        StandardScaler(),
        cr.MLPRegressor(hidden_layer_sizes=(64, 64), epochs=epochs, random_state=0),
    )
    clf.fit(X_c, y_c)
    reg.fit(X_r, y_r)
    print(clf[-1].model_)
    print(reg[-1].model_)
    # end excerpt
    page.code("two_tasks")
    page.output(f"{clf[-1].model_!r}\n\n{reg[-1].model_!r}")
    page.text(
        """
        The two networks differ only in the last layer's size (two classes vs one number)
        and in the loss they were trained with. (The regressor also standardizes its target
        internally, so that the squared error starts at a sensible scale.)
        """
    )

    # ------------------------------------------------------------------ decision regions
    page.heading("How each classifier divides the plane")
    page.text(
        """
        With two input features we can draw each classifier's **decision regions**. The two
        interleaved half-moons below cannot be separated by a straight line, which is
        exactly what distinguishes the methods:
        """
    )
    Xm, ym = make_moons(n_samples=300, noise=0.25, random_state=0)
    n_trees = 30 if fast else 100  # scikit-learn's default is 100
    models = classifiers(epochs=100 if fast else 300, n_trees=n_trees)
    gx, gy = np.meshgrid(np.linspace(-2, 3, 150), np.linspace(-1.5, 2, 120))
    grid = np.c_[gx.ravel(), gy.ravel()]
    fig, axes = plt.subplots(3, 4, figsize=(12, 8), sharex=True, sharey=True)
    moons_acc = {}
    for ax, (name, model) in zip(axes.ravel(), models.items(), strict=False):
        pipeline = make_pipeline(StandardScaler(), model).fit(Xm, ym)
        moons_acc[name] = float(pipeline.score(Xm, ym))
        ax.contourf(
            gx,
            gy,
            pipeline.predict(grid).reshape(gx.shape),
            levels=[-0.5, 0.5, 1.5],
            colors=["#9ecae1", "#fdae6b"],
            alpha=0.8,
        )
        for label, colour in ((0, "#0072B2"), (1, "#D55E00")):  # blue and vermillion
            pts = Xm[ym == label]
            ax.scatter(pts[:, 0], pts[:, 1], color=colour, s=7, edgecolors="none")
        ax.set_title(f"{name}\ntraining accuracy {moons_acc[name]:.2f}", fontsize=9)
        ax.grid(False)
    key = axes.ravel()[-1]
    key.axis("off")
    for label, colour, region in ((0, "#0072B2", "#9ecae1"), (1, "#D55E00", "#fdae6b")):
        key.scatter([], [], color=colour, s=20, label=f"class {label}")
        key.fill_between([], [], color=region, label=f"predicted {label}")
    key.legend(loc="center", fontsize=10, title="the two moons")
    for ax in axes[:, 0]:
        ax.set_ylabel("x₂")
    for ax in [*axes[-1, :-1], axes[-2, -1]]:
        ax.set_xlabel("x₁")
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.tight_layout()
    page.figure(fig, "moons", "Decision regions on two noisy half-moons (300 points).", dpi=75)
    page.text(
        """
        - **Linear boundaries:** logistic regression, the perceptron and LDA can only draw a
          straight line (LDA assumes Gaussian classes with a shared covariance).
        - **Quadratic:** QDA and Gaussian naive Bayes fit one Gaussian per class, which
          allows curved (conic) boundaries; here the two classes have similar spreads, so
          their boundaries come out almost straight, and neither can follow the S-shape.
        - **Local methods:** k-NN follows the data closely; a single decision tree carves
          the plane into axis-aligned boxes and memorizes the noise (training accuracy 1.00
          says nothing about new data); averaging many trees (random forest) or adding them
          up (boosting) smooths the boxes somewhat.
        - **Smooth nonlinear:** the RBF-kernel SVM and the neural network learn a smooth
          curved boundary. The network builds it from its hidden ReLU units, each of which
          contributes a line; together they bend the boundary around the moons.
        """
    )
    results["moons_accuracy"] = moons_acc

    # ------------------------------------------------------------------ classification
    page.heading("Classification on real data")
    digits_X, digits_y = load_digits(return_X_y=True)
    wine_X, wine_y = load_wine(return_X_y=True)
    class_data = {
        "breast cancer": (X_c, y_c),
        "wine": (wine_X, wine_y),
        "digits": (digits_X, digits_y),
    }
    if fast:  # keep the quick build quick: digits is the slowest of the three
        del class_data["digits"]
    page.text(
        f"""
        Now three of scikit-learn's bundled datasets: **breast cancer** (569 samples,
        30 features, 2 classes), **wine** (178 samples, 13 features, 3 cultivars) and
        **digits** ({len(digits_X)} images, 64 pixels, 10 classes). Every model runs with its
        default settings (the network: two hidden layers of 64 ReLU units, Adam, up to
        {epochs} epochs) inside a pipeline that standardizes the features, and is scored by
        {n_folds}-fold stratified cross-validation: the mean and standard deviation of the
        accuracy on the held-out folds.
        """
    )
    page.code("models")
    page.code("cross_validate")
    class_scores = compare(
        classifiers(epochs, n_trees),
        class_data,
        StratifiedKFold(n_folds, shuffle=True, random_state=0),
    )
    score_table(page, class_scores, "accuracy")

    # ------------------------------------------------------------------ regression
    page.heading("Regression")
    X_f, y_f = make_friedman1(n_samples=400 if fast else 1000, noise=1.0, random_state=0)
    reg_data = {"diabetes": (X_r, y_r), "Friedman #1": (X_f, y_f)}
    page.text(
        """
        For regression, two problems: **diabetes** (bundled: 442 patients, 10 features,
        disease progression after a year), which is nearly linear and very noisy, and
        **Friedman #1**, a standard synthetic benchmark generated by scikit-learn,
        y = 10 sin(π x₁x₂) + 20 (x₃ − ½)² + 10 x₄ + 5 x₅ + noise, with five more features that
        are pure noise. The score is R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²: 1 is perfect, 0 is no
        better than always predicting the mean. (Naive Bayes, LDA and QDA are classifiers
        only, and the perceptron's regression cousin is linear regression.)
        """
    )
    reg_scores = compare(
        regressors(epochs, n_trees), reg_data, KFold(n_folds, shuffle=True, random_state=0)
    )
    score_table(page, reg_scores, "R²")

    show = ("linear regression", "random forest", "chainrule MLP")
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharex=True, sharey=True)
    cv = KFold(n_folds, shuffle=True, random_state=0)
    all_reg = regressors(epochs, n_trees)
    for ax, name in zip(axes, show, strict=True):
        pred = cross_val_predict(make_pipeline(StandardScaler(), all_reg[name]), X_f, y_f, cv=cv)
        ax.scatter(y_f, pred, s=5, alpha=0.6)
        lo, hi = y_f.min(), y_f.max()
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set(xlabel="true y", title=f"{name} (R² {reg_scores[name]['Friedman #1'][0]:.2f})")
    axes[0].set_ylabel("cross-validated prediction")
    fig.tight_layout()
    page.figure(fig, "friedman", "Friedman #1: held-out predictions against the truth.")

    page.text(
        """
        **Reading the tables.** No method wins everywhere, and that is the point. On the
        small, nearly linear problems (breast cancer, wine, diabetes) the simple linear
        models are as good as anything, often better, and train in milliseconds; the network
        comes close but has more knobs and costs more time. On digits most flexible methods
        (SVM, k-NN, QDA, forests, boosting, the network) are within a percent of each other.
        On Friedman #1, smooth and nonlinear with five useless features, the network and
        gradient boosting are clearly best: the network learns a smooth function of all
        features at once, trees approximate it with steps, and k-NN and the RBF SVM, which
        measure distances over all ten features, are confused by the irrelevant ones.
        Single trees are the weakest nearly everywhere (they overfit), which is why forests
        and boosting exist; naive Bayes pays for assuming independent features (digits).

        Neural networks come into their own with more data and with structured inputs
        (images, sound, text), where their hidden layers learn features that the other
        methods need to be handed. On small tabular data, always run the simple baselines
        first: that is step 2 of the training recipe in [tutorial 9](09_training_recipe.md).
        """
    )
    results["classification"] = class_scores
    results["regression"] = reg_scores
    results["n_folds"] = n_folds
    page.write()
    return results


if __name__ == "__main__":
    run_cli(main)
