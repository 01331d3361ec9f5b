"""Data: everything between a user's data and a network's input, below the layers.

``cr.data`` (this module) gives the array helpers: checks, minibatches and validation splits.
The package holds one concept per module:

- `arrays`: arrays checked and converted (dense or SciPy sparse, finite, one row a sample);
- `batches`: minibatches, the three regimes of gradient descent;
- `splits`: training/validation splits, stratified or not;
- `datasets`: generated teaching data and the bundled tables (public as `chainrule.datasets`);
- `augment`: new training samples from old ones (public as `chainrule.augment`);
- `files`: reading tables (CSV, Parquet) with errors that name the file, line and column;
- `tabular`: table columns to network inputs and back (`TabularPreprocessor`, the one task
  rule `infer_task`, `TabularModel`).

Only NumPy at import; pandas and scikit-learn are imported by the functions that need them.
Nothing here imports the layers, training, estimators, saving or the CLI: they import it.
"""

from __future__ import annotations

from chainrule.data.arrays import (
    Array,
    check_array,
    check_arrays,
    check_finite,
    check_fit_arrays,
    chunk_rows,
    find_large,
    is_sparse,
    n_rows,
    take_rows,
)
from chainrule.data.batches import (
    batch_indices,
    check_batch_size,
    iter_batches,
    minibatches,
    n_batches,
)
from chainrule.data.splits import split_indices, train_val_split

__all__ = [
    "Array",
    "batch_indices",
    "check_array",
    "check_arrays",
    "check_batch_size",
    "check_finite",
    "check_fit_arrays",
    "chunk_rows",
    "find_large",
    "is_sparse",
    "iter_batches",
    "minibatches",
    "n_batches",
    "n_rows",
    "split_indices",
    "take_rows",
    "train_val_split",
]
