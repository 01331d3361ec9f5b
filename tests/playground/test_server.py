"""The local server over real loopback sockets: one session per WebSocket, errors as messages."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import chainrule as cr

websockets_sync = pytest.importorskip("websockets.sync.client", reason="needs the playground extra")


def _until(ws: Any, kind: str, limit: int = 50) -> dict[str, Any]:
    for _ in range(limit):
        m = json.loads(ws.recv(timeout=20))
        if m["type"] == kind:
            return m
    raise AssertionError(f"no {kind!r} message")


@contextlib.contextmanager
def _open(server: Any) -> Iterator[tuple[Any, str]]:
    with websockets_sync.connect(server.ws_url) as ws:
        hello = json.loads(ws.recv(timeout=20))
        assert hello["type"] == "hello"
        _until(ws, "frame")  # the first frame of the default network
        yield ws, hello["session"]


def test_page_and_static_files_are_served(live_server: Any) -> None:
    html = urllib.request.urlopen(live_server.url, timeout=10).read().decode()
    for element in ("play", "step", "reset", "dataset", "activation", "optimizer", "init"):
        assert f'id="{element}"' in html
    for element in ("learning-rate", "batch-size", "regularization", "train-loss", "test-loss"):
        assert f'id="{element}"' in html
    assert 'id="epoch"' in html and 'id="boundary"' in html
    assert "http" not in html.replace("http-equiv", "")  # nothing from the network: works offline
    for name in ("app.js", "draw.js", "panels.js", "style.css"):
        assert urllib.request.urlopen(live_server.url + "static/" + name, timeout=10).status == 200


def test_bad_values_come_back_as_messages_and_training_goes_on(live_server: Any) -> None:
    with _open(live_server) as (ws, _):
        for settings, words in (
            ({"learning_rate": "-1"}, "learning rate"),
            ({"learning_rate": "abc"}, "learning rate"),
            ({"hidden": [4] * 100}, "at most 6 hidden layers"),
        ):
            ws.send(json.dumps({"type": "config", "settings": settings}))
            assert words in _until(ws, "error")["message"]
        ws.send("not json")
        assert _until(ws, "error")
        ws.send(json.dumps({"type": "explain", "layer": "x"}))
        assert "layer must be a whole number" in _until(ws, "error")["message"]
        ws.send(json.dumps({"type": "play"}))
        frames = [_until(ws, "frame") for _ in range(10)]
        assert frames[-1]["playing"] and frames[-1]["steps"] > frames[0]["steps"]


def test_each_connection_trains_its_own_network_and_closing_ends_it(live_server: Any) -> None:
    stack = contextlib.ExitStack()
    a, key_a = stack.enter_context(_open(live_server))
    b, key_b = stack.enter_context(_open(live_server))
    assert key_a != key_b and set(live_server.app.state.connections) == {key_a, key_b}
    a.send(json.dumps({"type": "config", "settings": {"activation": "relu", "dataset": "xor"}}))
    assert _until(a, "config")["config"]["activation"] == "relu"
    b.send(json.dumps({"type": "step"}))
    frame_b = _until(b, "frame")
    assert frame_b["epoch"] == 1
    b.send(json.dumps({"type": "reset"}))
    assert _until(b, "config")["config"]["activation"] == "tanh"
    a.close()
    deadline = time.monotonic() + 10
    while key_a in live_server.app.state.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(live_server.app.state.connections) == {key_b}
    stack.close()


def test_tabs_playing_at_once_all_train_without_errors(live_server: Any) -> None:
    with contextlib.ExitStack() as stack:
        tabs = [stack.enter_context(_open(live_server))[0] for _ in range(3)]
        for ws in tabs:
            ws.send(json.dumps({"type": "play"}))
        seen: list[list[dict[str, Any]]] = [[] for _ in tabs]
        for _ in range(25):
            for k, ws in enumerate(tabs):
                seen[k].append(json.loads(ws.recv(timeout=20)))
        for messages in seen:
            assert [m for m in messages if m["type"] == "error"] == []
            frames = [m for m in messages if m["type"] == "frame" and m["playing"]]
            assert frames[-1]["steps"] > frames[0]["steps"]


def test_exports_download_a_loadable_model_and_code(live_server: Any, tmp_path: Path) -> None:
    with _open(live_server) as (ws, key):
        ws.send(json.dumps({"type": "step"}))
        _until(ws, "frame")
        data = urllib.request.urlopen(f"{live_server.url}export/model?session={key}").read()
        path = tmp_path / "m.chainrule"
        path.write_bytes(data)
        assert cr.load(path)[0].weight.shape == (4, 2)
        code = urllib.request.urlopen(f"{live_server.url}export/code?session={key}").read()
        compile(code, "playground.py", "exec")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{live_server.url}export/model?session=nobody")
    assert err.value.code == 404


def test_weights_that_are_not_finite_are_not_exported(live_server: Any) -> None:
    with _open(live_server) as (_, key):
        live_server.app.state.connections[key].session.model[0].weight.data[0, 0] = float("nan")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{live_server.url}export/model?session={key}")
        assert err.value.code == 409 and b"NaN" in err.value.read()


def test_other_sites_cannot_open_a_session(live_server: Any) -> None:
    with (
        pytest.raises(Exception),  # noqa: B017 - refused at the handshake or closed at once
        websockets_sync.connect(live_server.ws_url, origin="http://example.com") as ws,
    ):
        ws.recv(timeout=10)
    assert live_server.app.state.connections == {}


def test_serve_binds_to_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    from chainrule.playground import server

    bound = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: bound.extend(sockets))
    server.serve(0, open_browser=False)
    assert bound[0].getsockname()[0] == "127.0.0.1"
    bound[0].close()
