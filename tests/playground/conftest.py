"""A live playground server on 127.0.0.1 for the server and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest


class LiveServer:
    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    pytest.importorskip("starlette", reason="the server tests need the playground extra")
    uvicorn = pytest.importorskip("uvicorn", reason="the server tests need the playground extra")
    from chainrule.playground.server import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    yield LiveServer(app, sock.getsockname()[1])
    server.should_exit = True
    thread.join(10)
    sock.close()
