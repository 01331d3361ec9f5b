"""How fast the playground streams: frames per second over a real WebSocket, and what a frame costs.

    python benchmarks/playground_frames.py [--seconds 5] [--hidden 4,2]

Starts the server on 127.0.0.1, plays the network (default: TensorFlow Playground's 2-4-2 on
the circle) and counts the frames a client receives. Then it times the two halves of a frame
on their own: the server-side heat maps (one batched forward pass over the 50 × 50 grid that
keeps every neuron's output, `Session.grid_outputs`) and the whole frame (`frame_message`:
maps, losses on all points, weights, δ at the chosen point), and the frame's size as JSON.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time

import uvicorn
from websockets.sync.client import connect

from chainrule.playground.config import Config
from chainrule.playground.datasets import grid
from chainrule.playground.frames import GRID, frame_message
from chainrule.playground.server import FPS, create_app
from chainrule.playground.session import Session


def stream_rate(seconds: float, hidden: list[int]) -> tuple[float, int]:
    """Frames per second received while playing, and the epochs trained meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with connect(f"ws://127.0.0.1:{sock.getsockname()[1]}/ws", max_size=None) as ws:
        ws.send(json.dumps({"type": "config", "settings": {"hidden": hidden}}))
        ws.send(json.dumps({"type": "play"}))
        frames, start, epoch = 0, None, 0
        while True:
            m = json.loads(ws.recv(timeout=30))
            if m["type"] != "frame" or not m.get("playing"):
                continue
            if start is None:  # count from the first frame of play
                start, first_epoch = time.perf_counter(), m["epoch"]
                continue
            frames += 1
            epoch = m["epoch"]
            if time.perf_counter() - start >= seconds:
                break
        rate = frames / (time.perf_counter() - start)
    server.should_exit = True
    thread.join(10)  # its sessions compute no more (grad mode is process-wide)
    return rate, epoch - first_epoch


def frame_costs(hidden: list[int], repeats: int = 50) -> dict[str, float]:
    s = Session(Config(hidden=tuple(hidden)))
    s.run_epochs(5)
    points = grid(GRID)

    def median_ms(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return 1000 * statistics.median(times)

    message = frame_message(s, history_from=0, point=(1.0, 1.0), label=1.0)
    return {
        "heat maps (ms)": median_ms(lambda: s.grid_outputs(points)),
        "whole frame (ms)": median_ms(
            lambda: frame_message(s, history_from=s.epoch, point=(1.0, 1.0), label=1.0)
        ),
        "frame size (kB)": len(json.dumps(message)) / 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hidden", default="4,2")
    args = parser.parse_args()
    hidden = [int(v) for v in args.hidden.split(",") if v]
    rate, epochs = stream_rate(args.seconds, hidden)
    print(f"network 2-{'-'.join(map(str, hidden))}-1, target {FPS} frames/s")
    print(f"frames received    {rate:.1f} per second ({epochs / args.seconds:.0f} epochs/s)")
    for name, value in frame_costs(hidden).items():
        print(f"{name:<18} {value:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
