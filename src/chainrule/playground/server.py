"""The playground's local web server: the page, one WebSocket per tab, and the exports.

Starlette serves the page from the package's ``static/`` folder and runs one `Session` per
WebSocket connection, so every tab trains its own network and closing the tab ends it. While
playing, a connection alternates training (in a worker thread, ~`TRAIN_SLICE` seconds) and
sending a frame, up to `FPS` frames per second. The page's messages (JSON) change settings,
play, pause, step, select a point, explain one weight's step or draw one neuron's graph; a bad
one is answered with ``{"type": "error", "message": ...}`` and changes nothing.

`serve` binds to 127.0.0.1 only: the playground is for the person at this computer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chainrule.playground.config import PlaygroundError
from chainrule.playground.export import model_file, python_code
from chainrule.playground.frames import data_message, frame_message
from chainrule.playground.inspect import explain_step, neuron_graph
from chainrule.playground.session import Session

__all__ = ["FPS", "HOST", "MAX_SESSIONS", "create_app", "serve"]

HOST = "127.0.0.1"
FPS = 30
TRAIN_SLICE = 0.02  # seconds of training between two frames
MAX_SESSIONS = 32
STATIC = Path(__file__).parent / "static"
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


async def _compute(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(*args)` in a worker thread, off the event loop.

    Sessions share nothing (each has its own network, data and generator) and chainrule's
    grad mode is per thread, so tabs compute side by side; a tab's own computations run one at
    a time under its connection's lock.
    """
    return await asyncio.to_thread(fn, *args)


class Connection:
    """One tab: its session, whether it plays, and how much of the loss curve it has."""

    def __init__(self) -> None:
        self.session = Session()
        self.playing = False
        self.sent_history = 0
        self.point: tuple[float, float] = (1.0, 1.0)
        self.label = 1.0
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()

    def frame(self) -> dict[str, Any]:
        msg = frame_message(
            self.session, history_from=self.sent_history, point=self.point, label=self.label
        )
        self.sent_history = len(self.session.history["train"])
        msg["playing"] = self.playing
        return msg

    def after_reset(self) -> list[dict[str, Any]]:
        self.sent_history = 0
        first = self.session.train_points[0]
        self.point, self.label = (float(first[0]), float(first[1])), float(self.session.train_y[0])
        return [self.config_message(reset=True), data_message(self.session), self.frame()]

    def config_message(self, reset: bool) -> dict[str, Any]:
        return {"type": "config", "config": self.session.config.to_dict(), "reset": reset}

    def handle(self, msg: Any) -> list[dict[str, Any]]:
        """The replies to one message from the page (run in a worker thread)."""
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise PlaygroundError("a message must be a JSON object with a 'type'")
        kind = msg["type"]
        s = self.session
        if kind == "config":
            reset = s.apply(msg.get("settings", {}))
            return self.after_reset() if reset else [self.config_message(False), self.frame()]
        if kind in ("play", "pause"):
            self.playing = kind == "play" and not s.diverged
            return [self.frame()]
        if kind == "step":  # one epoch, as TensorFlow Playground's step button
            self.playing = False
            s.run_epochs(1)
            return [self.frame()]
        if kind == "reset":
            self.playing = False
            s.reset()
            return self.after_reset()
        if kind == "regenerate":
            self.playing = False
            s.apply({"seed": (s.config.seed + 1) % (2**31)})
            return self.after_reset()
        if kind == "point":
            self.point = (_float(msg, "x1"), _float(msg, "x2"))
            self.label = _float(msg, "label")
            return [self.frame()]
        if kind == "explain":
            self.playing = False
            result = explain_step(s, _int(msg, "layer"), _int(msg, "i"), _int(msg, "j"))
            return [{"type": "explain", **result}, self.frame()]
        if kind == "graph":
            graph = neuron_graph(s, _int(msg, "layer"), _int(msg, "unit"), self.point, self.label)
            return [{"type": "graph", **graph}]
        raise PlaygroundError(f"unknown message type {kind!r}")


def _float(msg: dict[str, Any], key: str) -> float:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise PlaygroundError(f"{key} must be a number, got {value!r}")
    return float(value)


def _int(msg: dict[str, Any], key: str) -> int:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlaygroundError(f"{key} must be a whole number, got {value!r}")
    return value


def _local_origin(origin: str | None) -> bool:
    """Only pages served from this computer may open a session (no cross-site WebSockets)."""
    if origin is None:
        return True
    return (urlsplit(origin).hostname or "") in _LOCAL_HOSTS


def create_app() -> Any:
    """The Starlette application (needs the ``playground`` extra)."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect

    connections: dict[str, Connection] = {}

    async def index(request: Any) -> Any:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    def _connection(request: Any) -> Connection | None:
        return connections.get(request.query_params.get("session", ""))

    async def export_model(request: Any) -> Any:
        conn = _connection(request)
        if conn is None:
            return JSONResponse({"error": "no such session (is its tab open?)"}, status_code=404)
        async with conn.lock:
            try:
                data = await _compute(model_file, conn.session)
            except ValueError as exc:  # e.g. diverged weights: NaN is no model
                return JSONResponse({"error": str(exc)}, status_code=409)
        disposition = 'attachment; filename="playground.chainrule"'
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": disposition},
        )

    async def export_code(request: Any) -> Any:
        conn = _connection(request)
        if conn is None:
            return JSONResponse({"error": "no such session (is its tab open?)"}, status_code=404)
        code = python_code(conn.session.config, epochs=max(conn.session.epoch, 100))
        disposition = 'attachment; filename="playground.py"'
        return Response(
            code, media_type="text/x-python", headers={"Content-Disposition": disposition}
        )

    async def socket(ws: WebSocket) -> None:
        if not _local_origin(ws.headers.get("origin")) or len(connections) >= MAX_SESSIONS:
            await ws.close(code=1008)
            return
        await ws.accept()
        conn = Connection()
        key = secrets.token_urlsafe(12)
        connections[key] = conn
        sender = asyncio.Lock()

        async def send(messages: list[dict[str, Any]]) -> None:
            async with sender:
                for m in messages:
                    await ws.send_text(json.dumps(m, allow_nan=False))

        async def ticker() -> None:
            period = 1 / FPS
            while True:
                if not conn.playing:
                    conn.wake.clear()
                    await conn.wake.wait()
                    continue
                start = time.perf_counter()
                async with conn.lock:
                    if conn.playing:
                        try:
                            messages = await _compute(_play_slice, conn)
                        except Exception as exc:  # a bug: say so and stop, never die silently
                            conn.playing = False
                            messages = [{"type": "error", "message": f"internal error: {exc}"}]
                        await send(messages)
                await asyncio.sleep(max(0.0, period - (time.perf_counter() - start)))

        await send([{**conn.config_message(True), "type": "hello", "session": key}])
        task = asyncio.create_task(ticker())
        try:
            async with conn.lock:
                await send(await _compute(conn.after_reset))
            while True:
                text = await ws.receive_text()
                async with conn.lock:
                    try:
                        replies = await _compute(conn.handle, json.loads(text))
                    except (PlaygroundError, json.JSONDecodeError) as exc:
                        replies = [{"type": "error", "message": str(exc)}]
                    except Exception as exc:  # a bug must not end the tab's session silently
                        replies = [{"type": "error", "message": f"internal error: {exc}"}]
                    await send(replies)
                conn.wake.set()
        except WebSocketDisconnect:
            pass
        finally:
            conn.playing = False
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            connections.pop(key, None)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/export/model", export_model),
            Route("/export/code", export_code),
            WebSocketRoute("/ws", socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    app.state.connections = connections
    return app


def _play_slice(conn: Connection) -> list[dict[str, Any]]:
    conn.session.advance(TRAIN_SLICE)
    if conn.session.diverged:
        conn.playing = False
    return [conn.frame()]


def serve(port: int = 8765, *, open_browser: bool = True) -> None:
    """Run the playground on http://127.0.0.1:`port`/ until interrupted (port 0: any free)."""
    import socket as sockets

    import uvicorn

    sock = sockets.socket(sockets.AF_INET, sockets.SOCK_STREAM)
    sock.setsockopt(sockets.SOL_SOCKET, sockets.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    print(f"chainrule playground: {url} (Ctrl+C stops it)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(create_app(), log_level="warning", ws_max_size=1 << 20)
    uvicorn.Server(config).run(sockets=[sock])
