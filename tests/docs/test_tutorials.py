"""The tutorials run (fast mode, into a temporary folder) and show what they claim to show.

Each tutorial's ``main`` returns its key numbers; these tests check them against the lecture
and against the effect the page describes, and check that every page links only to figures
that exist and are small enough to commit.
"""

from __future__ import annotations

import importlib.util
import math
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")
pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MAX_PNG_BYTES = 150_000


def _load_build_docs() -> Any:
    spec = importlib.util.spec_from_file_location("build_docs", DOCS / "build_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_docs = _load_build_docs()
NUMBERS = [int(p.name[:2]) for p in build_docs.TUTORIALS]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("docs")


def check_page(md: Path) -> None:
    """The page exists, has a title, and every image it links exists and is small."""
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# "), f"{md.name} has no title"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    for link in links:
        image = md.parent / link
        assert image.is_file(), f"{md.name} links to missing {link}"
        if image.suffix == ".png":
            assert image.stat().st_size <= MAX_PNG_BYTES, f"{link} is over 150 KB"
    assert "# excerpt" not in text and "# end excerpt" not in text  # markers never leak


def build(number: int, out_dir: Path) -> dict[str, Any]:
    results = build_docs.run(number, out_dir, fast=True)
    md = out_dir / build_docs.find(number).with_suffix(".md").name
    check_page(md)
    assert "Fast build" in md.read_text(encoding="utf-8")
    return results


def test_every_tutorial_is_listed_and_built() -> None:
    assert list(range(1, 12)) == NUMBERS
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for script in build_docs.TUTORIALS:
        page = script.with_suffix(".md")
        assert f"tutorials/{page.name}" in index, f"docs/index.md does not link {page.name}"
        assert page.is_file(), f"{page.name} is not built: run python docs/build_docs.py"
        check_page(page)
        assert "Fast build" not in page.read_text(encoding="utf-8"), f"{page.name} is a fast build"


def test_page_helper_excerpts(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(DOCS / "tutorials"))
    from _page import Page

    script = tmp_path / "99_demo.py"
    script.write_text("x = 1\n# excerpt: demo\n    y = x + 1\n# end excerpt\n", encoding="utf-8")
    page = Page(str(script), "Demo", tmp_path, fast=False)
    page.code("demo")
    page.table(["a|b", "c"], [[1.5, "x|y"]])
    with pytest.raises(ValueError, match="no '# excerpt: missing'"):
        page.code("missing")
    text = page.write().read_text(encoding="utf-8")
    assert "```python\ny = x + 1\n```" in text
    assert "| a\\|b | c |" in text and "| 1.5 | x\\|y |" in text


def test_01_chain_rule(out_dir: Path) -> None:
    r = build(1, out_dir)
    assert r["example1"]["dy/dx"] == 6.0  # (2)(3)
    assert r["example2"]["dy/dx"] == 5.0  # (2)(3) + (1)(-1)
    for name, (autograd, formula) in r["example3"].items():
        assert autograd == pytest.approx(formula, rel=1e-6), name
    simple = r["simple"]
    assert simple["values"] == {"y1": -6.0, "y2": -2.0, "f": -0.5}
    for name, value in simple["lecture"].items():
        assert simple["grads"][name] == pytest.approx(value, rel=1e-6), name
        if name in r["by_hand"]:
            assert r["by_hand"][name] == value
    assert r["grad_check_ok"]
    assert r["grad_check_numeric"] == pytest.approx([0.5, -0.75, -0.25], rel=1e-6)


def test_02_backprop_by_hand_equals_autograd(out_dir: Path) -> None:
    r = build(2, out_dir)
    for name, (hand, autograd) in r["chain"].items():
        assert autograd == pytest.approx(hand, rel=1e-12, abs=1e-15), name
    assert set(r["max_diff"]) >= {"δ⁽1⁾", "δ⁽3⁾", "∂E/∂W⁽1⁾", "∂E/∂b⁽2⁾", "∂E/∂x"}
    assert max(r["max_diff"].values()) < 1e-14
    assert r["grad_check_ok"]
    assert r["xor_loss_gap"] < 1e-12
    assert r["xor_weight_diff"] < 1e-9
    assert r["xor_last_loss"] < r["xor_first_loss"]


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_03_gradient_descent_regimes(out_dir: Path) -> None:
    r = build(3, out_dir)
    n = r["n"]
    expected = {"batch": 1, "stochastic": n, "minibatch": math.ceil(n / 32)}
    assert r["steps_per_epoch"] == expected
    assert r["history_steps"] == expected  # what cr.fit itself reports
    for regime, steps in expected.items():
        assert r["n_batch_losses"][regime] == steps * r["epochs"][regime]
        first, last = r["loss_first_last"][regime]
        assert last < first, regime
    cos = r["cosine"]
    assert cos[1] < cos[16] < cos[256] <= 1.0  # bigger batches point closer to the gradient
    spread = r["batch_loss_spread"]
    assert spread["stochastic"] > spread["minibatch"]  # one-sample losses are noisier


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_04_optimizers(out_dir: Path) -> None:
    r = build(4, out_dir)
    assert r["adam_hand_vs_cr"] < 1e-12
    ravine, banana = r["surfaces"]["ravine"], r["surfaces"]["banana"]
    assert max(ravine.values()) < 0.05  # all four get close to 0 from f = 12.05
    assert banana["Adam"] < banana["SGD"] and banana["Momentum"] < banana["SGD"]
    net = r["network"]
    for name, h in net.items():
        assert h["loss"][-1] < h["loss"][0], name
    for name in ("Momentum", "RMSprop", "Adam"):
        assert net[name]["loss"][-1] < net["SGD"]["loss"][-1], name


def test_05_activations_and_vanishing_gradients(out_dir: Path) -> None:
    r = build(5, out_dir)
    assert max(r["derivative_diffs"].values()) < 1e-12
    assert r["max_sigmoid_prime"] == pytest.approx(0.25, abs=1e-6)
    assert r["max_tanh_prime"] == pytest.approx(1.0, abs=1e-6)
    g = r["grads"]
    assert g["sigmoid"][0] / g["sigmoid"][-1] < 1e-4  # vanishes towards the input
    for name in ("tanh", "relu"):
        assert g[name][0] / g[name][-1] > 0.05, name
    assert r["final_loss"]["sigmoid"] > r["final_loss"]["tanh"]
    assert r["final_loss"]["sigmoid"] > r["final_loss"]["relu"]


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_06_initialization(out_dir: Path) -> None:
    r = build(6, out_dir)
    # zero init: the hidden units are exact copies of each other after training
    assert r["spread_zeros"] == 0.0
    assert r["bias_spread_zeros"] == 0.0
    assert r["out_spread_zeros"] == 0.0
    assert r["spread_xavier_uniform"] > 0.1
    std = r["tanh_std"]
    small, large, xavier = std["too small, N(0, 0.01²)"], std["too large, N(0, 1)"], std["Xavier"]
    assert small[-1] < 1e-4 * small[0]
    assert r["saturated_large"] > 0.7 and large[-1] > 0.9  # tanh stuck at ±1
    assert xavier[-1] / xavier[0] > 0.2
    relu = r["relu_std"]
    assert 0.5 < relu["He"][-1] / relu["He"][0] < 2.0
    assert relu["Xavier"][-1] / relu["Xavier"][0] < 0.1
    ratio = r["tanh_grad_ratio"]
    assert ratio["too large, N(0, 1)"] > 100  # exploding towards the input
    assert 0.3 < ratio["Xavier"] < 3.0


def test_07_batch_norm(out_dir: Path) -> None:
    r = build(7, out_dir)
    assert r["bn_mean"] == pytest.approx([0.0] * 4, abs=1e-5)
    assert r["bn_std"] == pytest.approx([1.0] * 4, rel=1e-3)
    assert r["running_mean"] == pytest.approx([0.1 * m for m in r["batch_mean"]], rel=1e-5)
    h = r["histories"]
    assert h["with batch norm"]["loss"][-1] < 0.5 * h["without"]["loss"][-1]
    var = r["variation"]
    assert var["without, before training"][-1] < 0.01
    assert var["with batch norm, before training"] == pytest.approx([1.0] * 6, rel=0.05)


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_08_regularization(out_dir: Path) -> None:
    r = build(8, out_dir)
    l1, l2 = r["l1_l2"]["L1, λ = 3e-4"], r["l1_l2"]["L2, λ = 3e-3"]
    plain = r["l1_l2"]["no penalty"]
    assert l1["share_zero"] > l2["share_zero"] + 0.2  # L1 makes weights sparse
    assert l2["max_abs"] < plain["max_abs"]  # L2 caps the largest weights
    assert l2["mean_abs"] < plain["mean_abs"] and l1["mean_abs"] < plain["mean_abs"]
    d = r["dropout"]
    assert d[0.5]["loss"][-1] > d[0.0]["loss"][-1]  # dropout keeps the training loss up
    e = r["early"]
    assert e["epochs_run"] <= e["max_epochs"]
    assert e["restored_val_loss"] == pytest.approx(e["best_val_loss"], rel=1e-5)
    if e["epochs_run"] < e["max_epochs"]:
        assert e["epochs_run"] - 1 - e["best_epoch"] == 10  # stopped after `patience` epochs


@pytest.mark.slow
def test_09_training_recipe(out_dir: Path) -> None:
    r = build(9, out_dir)
    s = r["summary"]  # the training part (80 % of 569)
    assert s["n_samples"] == 455 and s["n_features"] == 30
    assert s["missing"] == 0 and s["std_ratio"] > 1e4
    assert any("unit scale" in w for w in s["warnings"])
    b = r["baselines"]
    assert b["majority class"] == pytest.approx(357 / 569, abs=0.01)
    assert b["chainrule MLP"] > b["majority class"] + 0.2
    assert r["overfit"]["passed"] and r["overfit"]["acc"] == 1.0
    assert r["overfit"]["last"] < r["overfit"]["first"] / 50
    assert not r["overfit_raw"]["passed"] and r["overfit_raw"]["unscaled"]
    assert 1e-6 < r["lr_find"]["suggestion"] < r["lr_find"]["lr_min"]
    reg = r["regularize"]
    assert {"no regularization", "Gaussian input noise (σ = 0.1)", "mixup (α = 0.2)"} <= set(reg)
    assert all(v["acc"] > b["majority class"] + 0.2 for v in reg.values())
    assert r["search"]["best_score"] > 0.9
    t = r["test"]
    assert t["ensemble_acc"] > 0.9
    assert t["ensemble_loss"] <= sum(t["member_loss"]) / len(t["member_loss"])  # convexity


@pytest.mark.slow
def test_10_classification_regression(out_dir: Path) -> None:
    r = build(10, out_dir)
    moons = r["moons_accuracy"]
    assert moons["chainrule MLP"] > moons["logistic regression"] + 0.05  # a curved boundary
    mlp = r["classification"]["chainrule MLP"]
    assert mlp["breast cancer"][0] > 0.9 and mlp["wine"][0] > 0.9
    reg = r["regression"]
    assert reg["chainrule MLP"]["Friedman #1"][0] > reg["linear regression"]["Friedman #1"][0]
    assert reg["chainrule MLP"]["diabetes"][0] > 0.2


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_11_types_of_layers(out_dir: Path) -> None:
    r = build(11, out_dir)
    assert r["dense_vs_conv"] < 1e-12  # the convolution is the dense layer with matrix M
    assert r["grad_x_diff"] < 1e-12 and r["grad_x_dense_diff"] < 1e-12  # flipped kernel, Mᵀδ
    assert r["grad_w_diff"] < 1e-12  # correlation of the input with δ
    assert r["matrix_nonzeros_per_row"] == 9
    assert r["pool_grad"] == [
        [0.0, 10.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 20.0],
        [0.0, 0.0, 40.0, 0.0],
        [0.0, 30.0, 0.0, 0.0],
    ]
    assert r["receptive_fields"] == {"after conv 1": 9, "after pooling": 16, "after conv 2": 49}
    weights = r["signals_weights"]
    assert all(abs(w - weights["CNN"]) / weights["CNN"] < 0.02 for w in weights.values())
    assert r["digits_accuracy"]["CNN"] > 0.5  # the fast build trains only a few epochs


# ------------------------------------------------------------------ reproducible pages
@pytest.mark.slow
@pytest.mark.parametrize("number", NUMBERS)
def test_a_full_build_reproduces_the_committed_page_and_figures(
    number: int, tmp_path: Path
) -> None:
    """`make docs` on a fresh clone changes nothing: the same Markdown, the same figures.

    (Measured times come from tutorials/timings.json; everything else is recomputed.)
    """
    build_docs.run(number, tmp_path, fast=False)
    name = build_docs.find(number).with_suffix(".md").name
    committed = DOCS / "tutorials" / name
    built = (tmp_path / name).read_text(encoding="utf-8")
    assert built == committed.read_text(encoding="utf-8"), (
        f"{name} differs from a fresh build: run `make docs` and commit the result"
    )
    for figure in sorted((tmp_path / "figures").iterdir()):
        old = DOCS / "tutorials" / "figures" / figure.name
        assert old.is_file() and figure.read_bytes() == old.read_bytes(), (
            f"figures/{figure.name} differs from a fresh build: run `make docs`"
        )
