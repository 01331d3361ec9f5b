"""Take the screenshots of docs/playground.md and README.md (needs Playwright and Chromium).

    python docs/playground_shots.py            # writes docs/playground/*.png

Each experiment opens the URL the page gives, trains to a fixed epoch (one step-button epoch at a
time, so runs are repeatable) and keeps the part of the page the text talks about, reduced to a
small palette so the PNGs stay small.
"""

from __future__ import annotations

import io
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parent / "playground"
FULL_FEATURES = "x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2"
# (file, query, epochs to train, region: "all", "main" (network and output) or "curves")
SHOTS = [
    ("overview", "?dataset=xor&activation=tanh&learning_rate=0.1", 250, "all"),
    ("zeros", "?init=zeros&activation=sigmoid&hidden=4,3&learning_rate=0.3", 100, "main"),
    ("random", "?activation=sigmoid&hidden=4,3&learning_rate=0.3", 100, "main"),
    ("vanishing-sigmoid", "?hidden=8,8,8,8,8,8&activation=sigmoid&init=xavier", 30, "main"),
    ("vanishing-relu", "?hidden=8,8,8,8,8,8&activation=relu&init=xavier", 30, "main"),
    ("lr-high", "?dataset=xor&learning_rate=3", 60, "output"),
    ("lr-low", "?dataset=xor&learning_rate=0.00001", 60, "output"),
    ("regime-stochastic", "?dataset=xor&regime=stochastic&learning_rate=0.01", 30, "output"),
    ("regime-minibatch", "?dataset=xor&learning_rate=0.1", 30, "output"),
    ("regime-batch", "?dataset=xor&regime=batch&learning_rate=1", 30, "output"),
    ("l1", f"?features={FULL_FEATURES}&hidden=8,8&regularization=l1&reg_rate=0.01", 150, "main"),
    ("l2", f"?features={FULL_FEATURES}&hidden=8,8&regularization=l2&reg_rate=0.01", 150, "main"),
]


# Shots shown side by side in one picture: (picture, its parts left to right).
SIDE_BY_SIDE = [
    ("regimes", ["regime-stochastic", "regime-minibatch", "regime-batch"]),
    ("learning-rates", ["lr-low", "lr-high"]),
]


def _save(image: Image.Image, path: Path, colors: int = 96) -> None:
    image.quantize(colors, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _side_by_side(parts: list[Image.Image]) -> Image.Image:
    out = Image.new("RGB", (sum(p.width for p in parts), max(p.height for p in parts)), "white")
    x = 0
    for part in parts:
        out.paste(part, (x, 0))
        x += part.width
    return out


def main() -> int:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from chainrule.playground.server import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        shots: dict[str, Image.Image] = {}
        for name, query, epochs, region in SHOTS:
            page.goto(url + query)
            page.wait_for_function("typeof state !== 'undefined' && state.frame !== null")
            page.wait_for_timeout(500)
            # Epoch by epoch, as the step button does, so that every run ends at the same epoch.
            page.evaluate(f"for (let i = 0; i < {epochs}; i++) send({{type: 'step'}})")
            page.wait_for_function(
                f"state.frame.epoch >= {epochs} || state.frame.diverged", timeout=300_000
            )
            page.wait_for_timeout(400)
            if name == "overview":
                page.click("#step-once")
                page.click('canvas.neuron[data-layer="1"][data-unit="0"]')
                page.wait_for_selector("#graph .gnode")
            if region == "all":
                png = page.screenshot(full_page=True)
            elif region == "main":
                png = page.locator("main").screenshot()
            else:
                png = page.locator("section.output").screenshot()
            image = Image.open(io.BytesIO(png)).convert("RGB")
            if region == "output":  # leave out the export links at the bottom
                image = image.crop((0, 0, image.width, image.height - 50))
            shots[name] = image
            print(
                name, page.text_content("#epoch"), page.text_content("#test-loss"), file=sys.stderr
            )
        browser.close()
    server.should_exit = True
    for picture, parts in SIDE_BY_SIDE:
        shots[picture] = _side_by_side([shots.pop(part) for part in parts])
    for name, image in shots.items():
        _save(image, OUT / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
