"""End to end in headless Chromium: the page trains, resets, shows symmetry, exports, refuses.

Needs Playwright for Python and a system Chromium (``chromium`` on the PATH, or the browser
named by the ``CHROMIUM`` environment variable); without them every test here is skipped with
the reason. Screenshots of the main states go to ``out/test-artifacts/playground/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import chainrule as cr

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "test-artifacts" / "playground"
MAX_EPOCHS = 1000  # XOR with tanh at the default learning rate needs a few hundred


def _chromium() -> str | None:
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.path.exists(named) else None)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need Playwright (pip install playwright)"
    )
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found for the browser tests: install it (apt-get install chromium) "
            "or set CHROMIUM to its path"
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.server = live_server
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _load(page: Any, query: str = "") -> None:
    page.goto(page.server.url + query)
    page.wait_for_function("document.querySelectorAll('canvas.neuron').length > 0")
    page.wait_for_function("typeof state !== 'undefined' && state.frame !== null")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _number(page: Any, element: str) -> float:
    return float(page.text_content(f"#{element}"))


def _boundary(page: Any) -> str:
    return page.evaluate("document.getElementById('boundary').toDataURL()")


def _play_until(page: Any, done: str, max_epochs: int, timeout: float = 180) -> None:
    """Play until the JS condition `done` holds; fail past `max_epochs` or `timeout` seconds."""
    page.click("#play")
    deadline = time.monotonic() + timeout
    while not page.evaluate(done):
        epoch = _number(page, "epoch")
        assert epoch <= max_epochs, f"not done within {max_epochs} epochs"
        assert time.monotonic() < deadline, f"not done after {timeout} s (epoch {epoch})"
        page.wait_for_timeout(200)
    page.click("#play")
    page.wait_for_function("!state.playing")


def test_xor_with_tanh_learns_and_the_boundary_changes(page: Any) -> None:
    _load(page)
    page.select_option("#dataset", "xor")
    page.select_option("#activation", "tanh")
    page.wait_for_function("state.config.dataset === 'xor' && state.frame.epoch === 0")
    page.wait_for_timeout(300)
    before = _boundary(page)
    _shot(page, "1-xor-start")
    _play_until(
        page, "parseFloat(document.getElementById('test-loss').textContent) < 0.1", MAX_EPOCHS
    )
    assert _number(page, "test-loss") < 0.1
    assert _number(page, "train-loss") < 0.2
    assert 0 < _number(page, "epoch") <= MAX_EPOCHS
    assert _boundary(page) != before
    assert "dataset=xor" in page.url  # the state lives in the URL
    _shot(page, "2-xor-trained")

    # A new activation is a new network: training starts again.
    page.select_option("#activation", "relu")
    page.wait_for_function("document.getElementById('epoch').textContent === '0'")
    assert "activation=relu" in page.url
    assert _number(page, "test-loss") > 0.1


def test_zero_initialization_keeps_hidden_neurons_identical(page: Any) -> None:
    _load(page, "?activation=sigmoid&hidden=4,3&learning_rate=0.3")
    page.select_option("#init", "zeros")
    page.wait_for_function("state.config.init === 'zeros'")
    _play_until(page, "state.frame.epoch >= 30", 400)
    maps = page.evaluate(
        """[0, 1].map(k => [...document.querySelectorAll(`canvas.neuron[data-layer="${k}"]`)]
                      .map(c => c.toDataURL()))"""
    )
    assert [len(layer) for layer in maps] == [4, 3]
    for layer in maps:
        assert len(set(layer)) == 1  # every neuron of a layer draws the same map
    _shot(page, "3-zeros-symmetry")
    page.select_option("#init", "random")
    page.wait_for_function("state.config.init === 'random' && state.frame.epoch === 0")
    page.wait_for_timeout(300)
    first = page.evaluate(
        "[...document.querySelectorAll('canvas.neuron[data-layer=\"0\"]')].map(c => c.toDataURL())"
    )
    assert len(set(first)) == 4


def test_export_downloads_a_model_cr_load_reads(page: Any, tmp_path: Path) -> None:
    _load(page, "?dataset=gauss&hidden=3")
    page.click("#step")
    page.wait_for_function("state.frame.epoch === 1")
    with page.expect_download() as download:
        page.click("#export-model")
    path = tmp_path / "playground.chainrule"
    download.value.save_as(path)
    model = cr.load(path)
    assert [tuple(m.weight.shape) for m in model if hasattr(m, "weight")] == [(3, 2), (1, 3)]
    with page.expect_download() as download:
        page.click("#export-code")
    code_path = tmp_path / "playground.py"
    download.value.save_as(code_path)
    compile(code_path.read_text(), "playground.py", "exec")


def test_bad_values_are_refused_with_a_message(page: Any) -> None:
    _load(page)
    page.fill("#learning-rate", "-1")
    page.press("#learning-rate", "Enter")
    page.wait_for_selector("#message:not([hidden])")
    assert "learning rate" in page.text_content("#message")
    assert page.input_value("#learning-rate") == "0.03"  # back to the value in use
    _shot(page, "4-refused")
    page.goto(page.server.url + "?hidden=" + ",".join(["4"] * 100))
    page.wait_for_selector("#message:not([hidden])")
    assert "at most 6 hidden layers" in page.text_content("#message")
    page.click("#step")  # and the page still trains
    page.wait_for_function("state.frame.epoch === 1")


def test_chain_rule_step_and_neuron_graph(page: Any) -> None:
    _load(page, "?dataset=xor")
    page.click("#step-once")
    page.wait_for_selector("#explain-sum")
    assert page.text_content("#explain-sum") == page.text_content("#explain-grad")
    page.click('canvas.neuron[data-layer="1"][data-unit="0"]')
    page.wait_for_selector("#graph .gnode")
    assert page.locator("#graph .gnode").count() == 2 + 4 * 3 + 1  # a, z, w·z, w, z_in, b
    assert page.text_content("#graph-dot").startswith("digraph")
    page.hover('canvas.neuron[data-layer="0"][data-unit="1"]')
    assert "δ" in page.text_content("#tooltip")
    _shot(page, "5-chain-rule-and-graph")


def test_url_sets_up_the_page_and_closing_the_tab_ends_its_session(page: Any) -> None:
    _load(page, "?dataset=spiral&hidden=8,8,8&activation=relu&optimizer=adam&regime=batch")
    page.wait_for_function("state.config.dataset === 'spiral'")
    assert page.input_value("#dataset") == "spiral"
    assert page.input_value("#optimizer") == "adam"
    assert page.locator("canvas.neuron").count() == 8 * 3 + 1
    connections = page.server.app.state.connections
    assert len(connections) == 1
    page.close()
    deadline = time.monotonic() + 10
    while connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections == {}
