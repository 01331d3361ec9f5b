"""chainrule's playground: TensorFlow Playground's page plus the lecture, run by chainrule.

``chainrule playground`` starts a local server (`server.serve`) whose page trains a small
network on a 2-D dataset while you change its settings. The parts work without a browser:

- `datasets`: the six datasets and the input features;
- `config`: the settings (`Config`) and their checks (`PlaygroundError`);
- `network`: the `Sequential` built from a config, traced layer by layer for a, z and δ;
- `session`: one run (`Session`): data, network, optimizer, steps, epochs, losses;
- `inspect`: δ at a point, one weight's chain rule during a step, one neuron's graph;
- `frames`, `export`: what the page receives and downloads.

The server needs the ``playground`` extra (Starlette and uvicorn); nothing here imports them
until `server.create_app` or `server.serve` is called.
"""

from chainrule.playground.config import Config, PlaygroundError
from chainrule.playground.session import Session

__all__ = ["Config", "PlaygroundError", "Session"]
