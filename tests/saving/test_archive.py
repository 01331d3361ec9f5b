"""The archive format: round trips, hostile and damaged files, atomic writes under SIGKILL."""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import zipfile

import numpy as np
import pytest

from chainrule.errors import ModelFileError
from chainrule.saving.archive import (
    META_ENTRY,
    flatten_state,
    read_archive,
    remove_stale_temporaries,
    unflatten_state,
    write_archive,
)
from killkit import kill_a_writer

DTYPES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]


def _sample_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "0.weight": rng.normal(size=(4, 3)).astype(np.float32),
        "0.bias": np.zeros(4, dtype=np.float32),
        "steps": np.array(7),  # 0-d
        "empty": np.zeros((0, 5)),
        "fortran": np.asfortranarray(rng.normal(size=(3, 2))),
        "big_endian": np.arange(5, dtype=">i4"),
    }


def _make_zip(path, entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _header(arrays_manifest, meta=None, version=1) -> bytes:
    doc = {"format": "chainrule-archive", "version": version, "arrays": arrays_manifest}
    return json.dumps({**doc, "meta": meta or {}}).encode()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a)
    return buf.getvalue()


# ---------------------------------------------------------------------- round trips
def test_round_trip_keeps_names_order_dtypes_shapes_and_values(tmp_path):
    arrays = _sample_arrays()
    meta = {"kind": "test", "layers": [{"units": 3, "act": "relu"}], "lr": 0.1, "none": None}
    write_archive(tmp_path / "a.crz", arrays, meta)
    loaded, loaded_meta = read_archive(tmp_path / "a.crz")
    assert list(loaded) == list(arrays)
    for name, a in arrays.items():
        assert loaded[name].shape == a.shape
        assert loaded[name].dtype == a.dtype.newbyteorder("=")
        np.testing.assert_array_equal(loaded[name], a)
        assert loaded[name].flags.writeable and loaded[name].dtype.isnative
    assert loaded_meta == meta


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_numeric_dtype_round_trips_bit_for_bit(tmp_path, dtype):
    raw = np.random.default_rng(1).integers(0, 256, size=48, dtype=np.uint8)
    a = raw.view(dtype) if dtype != "bool" else raw.astype(bool)
    write_archive(tmp_path / "d.crz", {"a": a})
    b = read_archive(tmp_path / "d.crz")[0]["a"]
    assert b.dtype == a.dtype and b.tobytes() == a.tobytes()


def test_tuples_in_meta_come_back_as_lists(tmp_path):
    write_archive(tmp_path / "t.crz", {}, {"betas": (0.9, 0.999)})
    assert read_archive(tmp_path / "t.crz")[1] == {"betas": [0.9, 0.999]}


@pytest.mark.parametrize(
    ("arrays", "meta", "message"),
    [
        ({"o": np.array([{}], dtype=object)}, {}, "only numeric"),
        ({"s": np.array(["a"])}, {}, "only numeric"),
        ({1: np.zeros(1)}, {}, "names must be non-empty strings"),
        ({"": np.zeros(1)}, {}, "names must be non-empty strings"),
        ({}, {"x": {0: 1}}, "not a string"),
        ({}, {"x": {1, 2}}, "JSON"),
        ({}, {"x": np.zeros(2)}, "JSON"),
    ],
)
def test_write_refuses_what_it_cannot_store_and_leaves_the_old_file(
    tmp_path, arrays, meta, message
):
    path = tmp_path / "keep.crz"
    write_archive(path, {"w": np.ones(2)}, {"v": 1})
    with pytest.raises(ValueError, match=message):
        write_archive(path, arrays, meta)
    assert read_archive(path)[1] == {"v": 1}
    assert os.listdir(tmp_path) == ["keep.crz"]


def test_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.crz"
    write_archive(path, {"w": np.ones(3)}, {"v": 1})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(OSError, match="disk full"):
        write_archive(path, {"w": np.zeros(3)}, {"v": 2})
    monkeypatch.undo()
    arrays, meta = read_archive(path)
    assert meta == {"v": 1} and list(arrays["w"]) == [1, 1, 1]
    assert os.listdir(tmp_path) == ["m.crz"]


def test_write_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_archive(tmp_path / "nope" / "a.crz", {})


# ---------------------------------------------------------------------- hostile files
def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_archive(tmp_path / "absent.crz")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (os.urandom(300), "not a chainrule file"),
        (pickle.dumps({"weights": [1, 2, 3]}), "pickle"),
        (b'{"weights": [1, 2]}', "JSON"),
        (_npy(np.zeros(3)), "bare NumPy"),
        (len(b'{"w":{}}').to_bytes(8, "little") + b'{"w":{}}', "safetensors"),
        (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
    ],
)
def test_foreign_files_are_refused_with_a_message(tmp_path, content, message):
    path = tmp_path / "x.crz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        read_archive(path)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="not a file"):
        read_archive(tmp_path)


def test_plain_npz_is_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones(3))
    with pytest.raises(ModelFileError, match="not a chainrule archive"):
        read_archive(tmp_path / "plain.npz")


def test_pickled_object_array_inside_is_refused(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    manifest = [{"name": "o", "dtype": "|O", "shape": [1]}]
    _make_zip(tmp_path / "p.crz", {META_ENTRY: _header(manifest), "arrays/0.npy": buf.getvalue()})
    with pytest.raises(ModelFileError, match="non-numeric dtype"):
        read_archive(tmp_path / "p.crz")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([{"name": "a", "dtype": "<U3", "shape": [2]}], "non-numeric dtype"),
        ([{"name": "a", "dtype": "V8", "shape": [2]}], "non-numeric dtype"),
        ([{"name": "a", "dtype": "<f4", "shape": [-1]}], "invalid shape"),
        ([{"name": "a", "dtype": "<f4", "shape": "2"}], "invalid shape"),
        ([{"name": "a", "dtype": "<f8", "shape": [2]}], "disagrees with the manifest"),
        ([{"name": "a", "dtype": "<f4", "shape": [3]}], "disagrees with the manifest"),
        ([{"name": "a", "dtype": "no such dtype", "shape": [2]}], "invalid dtype"),
        ([{"dtype": "<f4", "shape": [2]}], "malformed array record"),
        ([], "do not match the manifest"),
    ],
)
def test_manifest_problems_are_refused(tmp_path, manifest, message):
    entries = {META_ENTRY: _header(manifest), "arrays/0.npy": _npy(np.zeros(2, np.float32))}
    _make_zip(tmp_path / "m.crz", entries)
    with pytest.raises(ModelFileError, match=message):
        read_archive(tmp_path / "m.crz")


def test_newer_format_version_asks_for_an_upgrade(tmp_path):
    _make_zip(tmp_path / "n.crz", {META_ENTRY: _header([], version=99)})
    with pytest.raises(ModelFileError, match=r"newer chainrule.*upgrade"):
        read_archive(tmp_path / "n.crz")


@pytest.mark.parametrize(
    "header",
    [b"not json", b"[1, 2]", b'{"format": "other", "version": 1}', b"[" * 100_000, b"\xff\xfe"],
)
def test_bad_metadata_is_refused(tmp_path, header):
    _make_zip(tmp_path / "h.crz", {META_ENTRY: header})
    with pytest.raises(ModelFileError):
        read_archive(tmp_path / "h.crz")


def test_absurd_declared_shape_is_refused_without_allocating(tmp_path):
    # A header promising 8 · 10¹⁸ bytes over a few bytes of data: refused on arithmetic alone.
    huge = [10**9, 10**9]
    manifest = [{"name": "a", "dtype": "<f8", "shape": huge}]
    npy = _npy(np.zeros(1)).replace(b"(1,)", str(tuple(huge)).encode())
    _make_zip(tmp_path / "huge.crz", {META_ENTRY: _header(manifest), "arrays/0.npy": npy})
    with pytest.raises(ModelFileError, match="declared"):
        read_archive(tmp_path / "huge.crz")


def test_zip_bomb_is_refused(tmp_path):
    # 64 MiB of zeros deflate to about 64 KB; a compressed entry is refused before inflating.
    n = 64 << 20
    manifest = [{"name": "a", "dtype": "|u1", "shape": [n]}]
    with zipfile.ZipFile(tmp_path / "bomb.crz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(META_ENTRY, _header(manifest))
        with zf.open("arrays/0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "|u1", "fortran_order": False, "shape": (n,)}
            )
            chunk = bytes(1 << 20)
            for _ in range(n >> 20):
                f.write(chunk)
    assert os.path.getsize(tmp_path / "bomb.crz") < n / 500
    with pytest.raises(ModelFileError, match="compressed"):
        read_archive(tmp_path / "bomb.crz")


def test_lying_entry_size_is_refused(tmp_path):
    path = tmp_path / "lie.crz"
    write_archive(path, {"w": np.zeros(1000)})
    data = bytearray(path.read_bytes())
    # Patch the central directory's uncompressed size of arrays/0.npy to 2 GB.
    cd = data.rfind(b"PK\x01\x02", 0, data.rfind(b"arrays/0.npy"))
    data[cd + 24 : cd + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="declares"):
        read_archive(path)


def test_max_bytes_caps_the_total(tmp_path):
    write_archive(tmp_path / "c.crz", {"w": np.zeros(1000)})
    assert read_archive(tmp_path / "c.crz", max_bytes=8000)[0]["w"].size == 1000
    with pytest.raises(ModelFileError, match="max_bytes"):
        read_archive(tmp_path / "c.crz", max_bytes=7999)


def test_truncations_and_bit_flips_give_errors_or_the_original(tmp_path):
    arrays = _sample_arrays()
    path = tmp_path / "f.crz"
    write_archive(path, arrays, {"v": [1, 2]})
    good = path.read_bytes()
    rnd = random.Random(0)
    errors = 0
    for trial in range(400):
        bad = bytearray(good)
        if trial % 2:
            del bad[rnd.randrange(len(bad)) :]
        else:
            pos = rnd.randrange(len(bad))
            bad[pos] ^= 1 << rnd.randrange(8)
        path.write_bytes(bytes(bad))
        try:
            loaded, meta = read_archive(path)
        except ModelFileError as exc:
            assert str(exc)
            errors += 1
            continue
        # A flip in a field nothing reads (a timestamp): the content is intact (CRC-checked).
        assert meta == {"v": [1, 2]}
        for name, a in arrays.items():
            np.testing.assert_array_equal(loaded[name], a)
    assert errors > 300


# ---------------------------------------------------------------------- nested state
def test_flatten_state_round_trips_optimizer_like_state(tmp_path):
    state = {
        "state": {0: {"step": 3, "exp_avg": np.ones((2, 2), np.float32)}, 1: {"step": 1}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}],
        "scalar": np.float32(0.5),
        "rng": {"state": {"state": 2**127 + 5, "inc": 3}},
        "tricky": {"__array__": "not an array"},
        "mixed": {None: 1, 2.5: "x", (1, 2): [np.arange(3)]},
        "nan": float("nan"),
    }
    arrays, tree = flatten_state(state)
    write_archive(tmp_path / "s.crz", arrays, {"state": tree})
    loaded_arrays, meta = read_archive(tmp_path / "s.crz")
    back = unflatten_state(meta["state"], loaded_arrays)
    assert back["state"][0]["step"] == 3 and back["state"][1] == {"step": 1}
    np.testing.assert_array_equal(back["state"][0]["exp_avg"], np.ones((2, 2)))
    assert back["state"][0]["exp_avg"].dtype == np.float32
    assert back["param_groups"][0]["betas"] == (0.9, 0.999)
    assert type(back["scalar"]) is np.float32 and back["scalar"] == 0.5
    assert back["rng"]["state"]["state"] == 2**127 + 5
    assert back["tricky"] == {"__array__": "not an array"}
    assert set(back["mixed"]) == {None, 2.5, (1, 2)}
    np.testing.assert_array_equal(back["mixed"][(1, 2)][0], np.arange(3))
    assert np.isnan(back["nan"])


def test_flatten_state_refuses_other_objects():
    with pytest.raises(ValueError, match="cannot store a object"):
        flatten_state({"x": object()})


def test_unflatten_state_reports_missing_arrays():
    with pytest.raises(ModelFileError, match="missing array"):
        unflatten_state({"w": {"__array__": "gone"}}, {})


# ---------------------------------------------------------------------- atomic writes
def _kill_writer_repeatedly(tmp_path, kills: int, seed: int) -> None:
    path = tmp_path / "atomic.crz"
    versions = [np.full(500_000, float(v)) for v in (1, 2)]

    def write(v: int) -> None:
        write_archive(path, {"w": versions[v - 1], "tail": np.full(3, v)}, {"version": v})

    write(1)
    rnd = random.Random(seed)
    for _ in range(kills):
        # A write of 4 MB takes a few milliseconds: the kill lands at a random point of one.
        kill_a_writer(tmp_path, write, rnd.uniform(0.0, 0.05))
        arrays, meta = read_archive(path)  # always loads: the old version or the new one
        v = meta["version"]
        assert v in (1, 2)
        assert np.all(arrays["w"] == v) and np.all(arrays["tail"] == v)
    # Killed writers leave temporary files beside the target, never a damaged target; that
    # there are some shows that kills landed in the middle of writes.
    names = os.listdir(tmp_path)
    assert all(name == "atomic.crz" or name.endswith(".tmp") for name in names)
    assert any(name.endswith(".tmp") for name in names)
    remove_stale_temporaries(path)
    assert os.listdir(tmp_path) == ["atomic.crz"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_writer_never_leaves_a_broken_file(tmp_path):
    _kill_writer_repeatedly(tmp_path, kills=20, seed=0)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_writer_never_leaves_a_broken_file_many_times(tmp_path):
    _kill_writer_repeatedly(tmp_path, kills=150, seed=1)
