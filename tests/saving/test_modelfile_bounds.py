"""Model files whose small JSON asks for huge memory or holds non-finite statistics.

A label dtype such as ``<U999999`` makes NumPy allocate n × 999999 × 4 bytes for n labels
of a few characters; a stored target mapping of ∞ predicts ±∞. Both are refused at load.
"""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import archive
from chainrule.saving.archive import read_archive

RNG = np.random.default_rng(0)
N_CLASSES = 40
X = RNG.normal(size=(4 * N_CLASSES, 3))
Y = np.array([f"c{i}" for i in range(N_CLASSES)] * 4)


def _write_raw(path: Path, arrays: dict, meta: dict) -> Path:
    """Write an archive without the writer's checks, as a forger would (valid CRCs)."""
    manifest = [
        {"name": n, "dtype": np.asarray(a).dtype.str, "shape": list(np.shape(a))}
        for n, a in arrays.items()
    ]
    header = {"format": archive.FORMAT, "version": 1, "arrays": manifest, "meta": meta}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(archive.META_ENTRY, json.dumps(header))
        for i, a in enumerate(arrays.values()):
            with zf.open(f"arrays/{i}.npy", "w") as f:
                np.lib.format.write_array(f, np.asarray(a), allow_pickle=False)
    return path


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    clf = cr.MLPClassifier(hidden_layer_sizes=(2,), epochs=1, random_state=0).fit(X, Y)
    path = tmp_path_factory.mktemp("clf") / "clf.crz"
    cr.save(clf, path)
    return read_archive(path)


@pytest.mark.parametrize("width", [999999, 5000, 64 + 4])
def test_a_label_width_beyond_the_labels_held_is_refused_without_allocating(
    tmp_path: Path, classifier_file: tuple[dict, dict], width: int
) -> None:
    arrays, meta = classifier_file
    meta = json.loads(json.dumps(meta))
    meta["estimator"]["fitted"]["classes"]["dtype"] = f"<U{width}"
    path = _write_raw(tmp_path / "bomb.crz", arrays, meta)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        with pytest.raises(cr.ModelFileError, match=f"<U{width}.*longest of them holds 3"):
            cr.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Believing the dtype would take 40 × width × 4 bytes (160 MB for the first width).
    assert peak < 8 << 20


@pytest.mark.parametrize("dtype", ["<i3", "|b7", "<f3"])
def test_label_dtypes_numpy_cannot_build_are_model_file_errors(
    tmp_path: Path, classifier_file: tuple[dict, dict], dtype: str
) -> None:
    arrays, meta = classifier_file
    meta = json.loads(json.dumps(meta))
    classes = meta["estimator"]["fitted"]["classes"]
    classes["dtype"] = dtype
    classes["values"] = [i % 2 == 0 if dtype[1] == "b" else i for i in range(N_CLASSES)]
    with pytest.raises(cr.ModelFileError):
        cr.load(_write_raw(tmp_path / "odd.crz", arrays, meta))


def test_labels_from_a_wider_array_save_with_their_exact_width(tmp_path: Path) -> None:
    wide = Y.astype("<U500")
    clf = cr.MLPClassifier(hidden_layer_sizes=(2,), epochs=1, random_state=0).fit(X, wide)
    cr.save(clf, tmp_path / "wide.crz")
    again = cr.load(tmp_path / "wide.crz")
    np.testing.assert_array_equal(again.classes_, clf.classes_)
    assert again.classes_.dtype == np.dtype("<U3")


@pytest.mark.parametrize(
    ("key", "value"),
    [("target_scale", float("inf")), ("target_mean", float("-inf")), ("target_scale", 0.0)],
)
def test_a_tabular_model_with_a_non_finite_target_mapping_is_refused(
    tmp_path: Path, key: str, value: float
) -> None:
    pd = pytest.importorskip("pandas")
    from chainrule.data.tabular import TabularModel, TabularPreprocessor

    frame = pd.DataFrame({"x": X[:, 0], "z": X[:, 1]})
    prep = TabularPreprocessor().fit(frame)
    est = cr.MLPRegressor(hidden_layer_sizes=(2,), epochs=1, random_state=0)
    est.fit(prep.transform(frame), X[:, 2])
    model = TabularModel(est, prep, task="regression", target="y", target_mean=1.0)
    cr.save(model, tmp_path / "ok.crz")
    arrays, meta = read_archive(tmp_path / "ok.crz")
    meta["tabular"][key] = value
    with pytest.raises(cr.ModelFileError, match=key):
        cr.load(_write_raw(tmp_path / "bad.crz", arrays, meta))
    setattr(model, key, value)
    with pytest.raises(ValueError, match=key):  # nor is such a file ever written
        cr.save(model, tmp_path / "never.crz")
    assert not (tmp_path / "never.crz").exists()


@pytest.mark.parametrize(("key", "value"), [("mean", float("nan")), ("scale", float("inf"))])
def test_a_tabular_model_with_non_finite_column_statistics_is_refused(
    tmp_path: Path, key: str, value: float
) -> None:
    pd = pytest.importorskip("pandas")
    from chainrule.data.tabular import TabularModel, TabularPreprocessor

    frame = pd.DataFrame({"x": X[:, 0], "z": X[:, 1]})
    prep = TabularPreprocessor().fit(frame)
    est = cr.MLPRegressor(hidden_layer_sizes=(2,), epochs=1, random_state=0)
    est.fit(prep.transform(frame), X[:, 2])
    cr.save(TabularModel(est, prep, task="regression", target="y"), tmp_path / "ok.crz")
    arrays, meta = read_archive(tmp_path / "ok.crz")
    meta["tabular"]["preprocessing"]["columns"][1][key] = value
    with pytest.raises(cr.ModelFileError, match="column 'z' has an invalid mean or scale"):
        cr.load(_write_raw(tmp_path / "bad.crz", arrays, meta))
