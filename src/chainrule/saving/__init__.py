"""Files: the archive container, the network description, and `cr.save` / `cr.load`.

- `atomic`: `atomic_open`, the one way chainrule replaces a file (old or new, never a mix);
- `archive`: the container, NumPy ``.npy`` arrays and one JSON document in a zip, read
  without executing anything and within limits; `state`: nested state in and out of it;
- `modelspec`: a network as JSON (layer types from a fixed table) and back;
- `labels`: class labels as JSON and back;
- `modelfile`: `save` / `load`, with a registry that the estimators and the tabular models
  fill when they are imported;
- `tabular`: how the command line's `TabularModel` (`chainrule.data.tabular`) is stored.

This package sits above `nn/` and `optim/` and below `training/` (whose checkpoints are
archives); the submodules are imported where they are used.
"""
