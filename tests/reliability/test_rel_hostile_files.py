"""Promise 1: `cr.load` never runs code from a file, and never crashes, hangs or runs out of memory.

Every damaged, hostile or foreign file gives `cr.ModelFileError` with a message; a damaged
file that still loads (the damage hit a field nothing reads) predicts exactly as the original.
"""

from __future__ import annotations

import ast
import contextlib
import io
import itertools
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relkit import (
    assert_refused_or_intact,
    chainrule_header,
    deflate_bomb,
    load_or_refuse,
    load_with_memory_limit,
    npy_bytes,
    npy_header,
    object_npy_bytes,
    overlapping_zip,
    pickle_bytes,
    raw_zip,
    regions,
    safetensors_bytes,
    zip64_entry_count,
)

import chainrule as cr
from chainrule.saving.archive import MAX_ENTRIES, MAX_META_BYTES, read_archive, write_archive

SRC = Path(cr.__file__).parent
FUZZ = settings(
    max_examples=max(200, settings.default.max_examples),  # more with HYPOTHESIS_PROFILE
    deadline=None,  # hangs are caught by relkit.deadline instead, without timing flakiness
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ---------------------------------------------------------------------- random bytes
PREFIXES = [b"", b"PK\x03\x04", b"PK\x03\x04\x14\x00\x00\x00\x00\x00", b"\x93NUMPY\x01\x00"]
PREFIXES += [b"\x80\x04\x95", b'{"format": "chainrule-archive", ', b"\x89HDF\r\n\x1a\n"]


@FUZZ
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=4096))
def test_random_bytes_are_refused(tmp_path, prefix, body):
    path = tmp_path / "random.chainrule"
    path.write_bytes(prefix + body)
    model, message = load_or_refuse(path)
    assert model is None and message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
MANIFEST_ITEM = st.fixed_dictionaries(
    {
        "name": st.text(max_size=6),
        "dtype": st.sampled_from(["<f4", ">f8", "|O", "<U3", "V8", "<M8[s]", "|b1", "<c16", 7]),
        "shape": st.lists(st.integers(-2, 2**40), max_size=3) | JSON,
    }
)
ENTRY_NAMES = ["chainrule.json", "arrays/0.npy", "arrays/1.npy", "../escape", "/abs", "x"]


@st.composite
def zips(draw: st.DrawFn) -> bytes:
    """Zip files whose entries are chainrule-like: manifests, .npy data, noise, compressed."""
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name in draw(st.lists(st.sampled_from(ENTRY_NAMES), max_size=4, unique=True)):
            content = draw(
                st.one_of(
                    st.binary(max_size=200),
                    st.builds(
                        lambda m, meta: chainrule_header(m, meta),
                        st.lists(MANIFEST_ITEM, max_size=2),
                        st.dictionaries(st.text(max_size=4), JSON, max_size=2),
                    ),
                    st.builds(
                        npy_bytes,
                        st.sampled_from([np.zeros(3, np.float32), np.ones((2, 2)), np.arange(3)]),
                    ),
                )
            )
            zf.writestr(name, content)
    return buf.getvalue()


@FUZZ
@given(data=zips())
def test_random_zip_archives_are_refused(tmp_path, data):
    path = tmp_path / "zip.chainrule"
    path.write_bytes(data)
    model, message = load_or_refuse(path)
    assert model is None and message


# ---------------------------------------------------------------------- damaged model files
def _boundary_cuts(data: bytes) -> list[int]:
    """Each offset class of the zip (headers, names, JSON, .npy headers, weights, central
    directory, end record): its first byte, the bytes around it and its middle."""
    marks = sorted(set(regions(data).values()))
    cuts = {m + d for m in marks for d in (-1, 0, 1)}
    cuts |= {(a + b) // 2 for a, b in itertools.pairwise(marks)}
    return sorted(c for c in cuts if 0 <= c < len(data))


# Heavyweight: `make test-fast` keeps the boundary cuts of every file (below) instead.
@pytest.mark.slow
def test_every_truncation_of_a_network_file_is_refused(model_files, tmp_path):
    file = model_files["module"]
    for cut in range(len(file.data)):
        assert assert_refused_or_intact(file, file.data[:cut], tmp_path / "cut")


def test_truncation_in_every_part_of_every_model_file_is_refused(model_files, tmp_path):
    for file in model_files.values():
        cuts = _boundary_cuts(file.data)
        assert len(cuts) > 40  # ~15 parts, each cut at its start, around it and midway
        for cut in cuts:
            assert assert_refused_or_intact(file, file.data[:cut], tmp_path / "cut")


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_a_bit_flip_in_every_byte_of_a_network_file_is_refused_or_harmless(model_files, tmp_path):
    file = model_files["module"]
    refused = 0
    for pos in range(len(file.data)):
        damaged = bytearray(file.data)
        damaged[pos] ^= 1 << (pos % 8)
        refused += assert_refused_or_intact(file, bytes(damaged), tmp_path / "flip")
    # A flip loads only where nothing is read (dates, attributes, padding): a minority.
    assert refused > 0.8 * len(file.data)


@pytest.mark.slow
def test_every_truncation_and_bit_flip_of_every_model_file(model_files, tmp_path):
    for file in model_files.values():
        for cut in range(len(file.data)):
            assert assert_refused_or_intact(file, file.data[:cut], tmp_path / "cut")
        for pos in range(len(file.data)):
            for bit in range(8):
                damaged = bytearray(file.data)
                damaged[pos] ^= 1 << bit
                assert_refused_or_intact(file, bytes(damaged), tmp_path / "flip")


@st.composite
def damage(draw: st.DrawFn, size: int) -> tuple[str, int, int, bytes]:
    op = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "duplicate"]))
    start = draw(st.integers(0, size - 1))
    length = draw(st.integers(1, 64))
    return op, start, length, draw(st.binary(min_size=1, max_size=64))


def _apply(data: bytes, op: str, start: int, length: int, noise: bytes) -> bytes:
    if op == "flip":
        return data[:start] + bytes([data[start] ^ (1 << (length % 8))]) + data[start + 1 :]
    if op == "overwrite":
        return data[:start] + noise + data[start + len(noise) :]
    if op == "insert":
        return data[:start] + noise + data[start:]
    if op == "delete":
        return data[:start] + data[start + length :]
    return data[: start + length] + data[start : start + length] + data[start + length :]


@FUZZ
@given(data=st.data())
def test_fuzzed_damage_is_refused_or_harmless(model_files, tmp_path, data):
    file = model_files[data.draw(st.sampled_from(sorted(model_files)))]
    op, start, length, noise = data.draw(damage(len(file.data)))
    assert_refused_or_intact(file, _apply(file.data, op, start, length, noise), tmp_path / "d")


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_flipped_weights_with_a_valid_checksum_load_a_working_model(model_files, data):
    # A file damaged before it was zipped (or forged) passes the CRC: a flip inside a weight
    # must then give a model that runs, or, for a NaN or infinity, a clear refusal.
    file = model_files["module"]
    arrays, meta = read_archive(file.path)
    name = data.draw(st.sampled_from(sorted(arrays)))
    index = data.draw(st.integers(0, arrays[name].size - 1))
    bit = data.draw(st.integers(0, 31))
    flat = arrays[name].reshape(-1).view(np.uint32)
    flat[index] ^= np.uint32(1 << bit)
    forged = file.path.with_name("forged.chainrule")
    write_archive(forged, arrays, meta)
    model, message = load_or_refuse(forged)
    value = arrays[name].reshape(-1)[index]
    if not np.isfinite(value):
        assert message is not None and "NaN or infinite" in message
        return
    assert model is not None, message
    with np.errstate(all="ignore"):  # a huge weight may overflow; a negative variance, NaN
        out = file.run(model)
    assert out.shape == file.reference.shape


def _paths(tree, prefix=()):
    yield list(prefix)
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, (*prefix, i))


@FUZZ
@given(data=st.data())
def test_fuzzed_model_descriptions_are_refused_or_run(model_files, tmp_path, data):
    # The JSON part rewritten with a valid checksum: any field replaced by any JSON value.
    # (tests/test_modelfile.py fuzzes a classifier's description the same way.)
    file = model_files[data.draw(st.sampled_from(sorted(model_files)))]
    arrays, meta = read_archive(file.path)
    path = data.draw(st.sampled_from([p for p in _paths(meta) if p]))
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(JSON)
    forged = tmp_path / "forged.chainrule"
    write_archive(forged, arrays, meta)
    model, _ = load_or_refuse(forged)
    if model is None:
        return
    # A harmless field, or one the model uses (a number, a column name): it must run, or
    # refuse our rows with a ValueError if they no longer fit it (a renamed column).
    try:
        with np.errstate(all="ignore"):
            out = file.run(model)
    except ValueError as exc:
        assert str(exc)
    else:
        assert out.shape == file.reference.shape


# ---------------------------------------------------------------------- foreign formats
def _safetensors(marker: Path) -> bytes:
    return safetensors_bytes({"0.weight": np.ones((4, 3), np.float32), "0.bias": np.zeros(4)})


def _torch_like_zip(marker: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # PyTorch's format: a zip around a pickle
        zf.writestr("archive/data.pkl", pickle_bytes(marker))
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def _npz(marker: Path) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, weight=np.ones((4, 3)), bias=np.zeros(4))
    return buf.getvalue()


def _pickled_npz(marker: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("weight.npy", object_npy_bytes(marker))
    return buf.getvalue()


def _archive_with_pickle(dtype: str):
    def build(marker: Path) -> bytes:
        manifest = [{"name": "0.weight", "dtype": dtype, "shape": [1]}]
        return raw_zip(
            [
                ("chainrule.json", chainrule_header(manifest)),
                ("arrays/0.npy", object_npy_bytes(marker)),
            ]
        )

    return build


def _archive_with_raw_pickle(marker: Path) -> bytes:
    manifest = [{"name": "0.weight", "dtype": "<f4", "shape": [3]}]
    return raw_zip(
        [("chainrule.json", chainrule_header(manifest)), ("arrays/0.npy", pickle_bytes(marker))]
    )


def _keras_h5(marker: Path) -> bytes:
    return b"\x89HDF\r\n\x1a\n" + bytes(512)


FOREIGN = {
    "a pickle": (pickle_bytes, "pickle"),
    "a pickle, protocol 0": (lambda m: pickle.dumps({"w": [1.0]}, protocol=0), "pickle"),
    "an object .npy": (object_npy_bytes, "bare NumPy"),
    "a plain .npy": (lambda m: npy_bytes(np.ones(3)), "bare NumPy"),
    "a plain .npz": (_npz, "not a chainrule archive"),
    "an .npz with a pickled array": (_pickled_npz, "not a chainrule archive"),
    "a PyTorch-like zip": (_torch_like_zip, "not a chainrule archive"),
    "a safetensors file": (_safetensors, "safetensors"),
    "a JSON file": (lambda m: b'{"kind": "chainrule-model", "network": {}}', "JSON"),
    "a JSON list": (lambda m: b"[1, 2, 3]", "JSON"),
    "an HDF5 (Keras) file": (_keras_h5, "HDF5"),
    "a CSV file": (lambda m: b"a,b,y\n1,2,3\n", "not a zip"),
    "an empty file": (lambda m: b"", "empty"),
    "an archive of a pickled |O array": (_archive_with_pickle("|O"), "non-numeric dtype"),
    "an archive claiming <f4 over a pickle": (_archive_with_pickle("<f4"), "disagrees"),
    "an archive whose .npy is a raw pickle": (_archive_with_raw_pickle, "damaged"),
}


@pytest.mark.parametrize("what", list(FOREIGN))
def test_foreign_files_are_refused_and_run_nothing(tmp_path, what):
    build, words = FOREIGN[what]
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.chainrule"
    path.write_bytes(build(marker))
    model, message = load_or_refuse(path)
    assert model is None
    assert words in message and "model.chainrule" in message
    assert not marker.exists()


def test_a_pickle_is_refused_by_every_entry_point(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle_bytes(marker))
    with pytest.raises(cr.ModelFileError, match="pickle"):
        cr.load(evil)
    with pytest.raises(cr.ModelFileError, match="pickle"):
        read_archive(evil)
    from chainrule.training import load_checkpoint

    with pytest.raises(cr.ModelFileError, match="pickle"):
        load_checkpoint(evil)
    net = cr.nn.Sequential(cr.nn.Dense(3, 2))
    opt = cr.optim.SGD(net.parameters(), lr=0.1)
    X = np.zeros((4, 3), np.float32)
    with pytest.raises(cr.ModelFileError, match="pickle"):
        cr.fit(net, cr.nn.MSELoss(), opt, X, X[:, :2], epochs=1, resume_from=evil, progress=False)
    pytest.importorskip("pandas")
    from chainrule.cli import main

    data = tmp_path / "rows.csv"
    data.write_text("a,b,c\n1,2,3\n")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", str(evil), str(data)]) == 1
    assert main(["info", str(evil)]) == 1
    assert not marker.exists()


def test_safetensors_with_an_absurd_header_length_is_refused_unread(tmp_path):
    path = tmp_path / "big.safetensors"
    path.write_bytes(safetensors_bytes({"w": np.ones(3, np.float32)}, header_len=2**62))
    with pytest.raises(cr.ModelFileError, match="safetensors"):
        cr.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipes_and_devices_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    for path in (fifo, Path(os.devnull), tmp_path):
        model, message = load_or_refuse(path, seconds=5)
        assert model is None and "not a file" in message


def test_pickle_is_never_called_while_loading(model_files, tmp_path, monkeypatch):
    calls = []

    def trap(*args, **kwargs):
        calls.append(args)
        raise AssertionError("pickle was called")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap)
    for file in model_files.values():
        np.testing.assert_array_equal(file.run(cr.load(file.path)), file.reference)
    marker = tmp_path / "code-ran"
    for what, (build, _) in FOREIGN.items():
        path = tmp_path / f"{len(calls)}.chainrule"
        path.write_bytes(build(marker))
        assert load_or_refuse(path)[0] is None, what
    assert calls == [] and not marker.exists()


# ---------------------------------------------------------------------- no pickle in the source
FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "__import__"}


def test_the_source_has_no_pickle_no_eval_and_no_allow_pickle():
    problems = []
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = f"{path.relative_to(SRC)}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
                problems += [f"{where}: import {n}" for n in names & FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom):
                if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"{where}: from {node.module} import")
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                    problems.append(f"{where}:{node.lineno}: {node.func.id}()")
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and not (
                        isinstance(kw.value, ast.Constant) and kw.value.value is False
                    ):
                        problems.append(f"{where}:{node.lineno}: allow_pickle not False")
                if isinstance(node.func, ast.Attribute) and node.func.attr == "load":
                    owner = node.func.value
                    if isinstance(owner, ast.Name) and owner.id in ("np", "numpy"):
                        problems.append(f"{where}:{node.lineno}: np.load (use the archive)")
    assert problems == []


# ---------------------------------------------------------------------- bombs, in a small memory
def _bombs(folder: Path) -> dict[str, Path]:
    """Files declaring far more data than they hold; each would need gigabytes if believed."""
    files: dict[str, bytes] = {}
    # 1. Deflate: 1 GiB of zeros in ~1 MB.
    files["deflate bomb"] = deflate_bomb(1 << 30)
    # 2. Overlapping stored entries: ~1.2 MB declaring ~320 MB.
    files["overlapping entries"], declared = overlapping_zip(560, 2048)
    assert declared > 300 << 20
    # 3. A .npy header and manifest agreeing on 8 · 10¹⁸ bytes over 8 real ones.
    huge = [10**9, 10**9]
    npy = npy_header("<f8", tuple(huge)) + bytes(8)
    manifest = [{"name": "0.weight", "dtype": "<f8", "shape": huge}]
    entries = [("chainrule.json", chainrule_header(manifest)), ("arrays/0.npy", npy)]
    files["absurd shape"] = raw_zip(entries)
    # 4. A ZIP64 end record declaring 2⁴⁰ entries that are not there.
    good = raw_zip([("chainrule.json", chainrule_header([]))])
    files["absurd entry count"] = zip64_entry_count(good, 2**40)
    # 5. Real entries, as many as the reader allows: parsing them costs ~120 MB.
    many = [(f"{i}", b"") for i in range(200_000)]
    files["200000 entries"] = raw_zip(many)
    # 6. JSON that decodes to ~30 times its size: 15 MB of empty objects; 14 MB of numbers.
    blob = b"[" + b"{}," * (5 << 20) + b"{}]"
    files["JSON amplification"] = raw_zip([("chainrule.json", blob)])
    blob = b"[" + b"0," * (7 << 20) + b"0]"
    files["JSON numbers"] = raw_zip([("chainrule.json", blob)])
    # 7. Metadata beyond the size limit.
    big = chainrule_header([], {"pad": "x" * (MAX_META_BYTES + 1)})
    files["oversized metadata"] = raw_zip([("chainrule.json", big)])
    paths = {}
    for name, data in files.items():
        paths[name] = folder / (name.replace(" ", "_") + ".chainrule")
        paths[name].write_bytes(data)
    return paths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, sets RLIMIT_AS")
@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_bombs_are_refused_in_bounded_time_and_memory(tmp_path):
    bombs = _bombs(tmp_path)
    # 256 MiB beyond the interpreter and its imports; each bomb would need gigabytes.
    results = load_with_memory_limit(list(bombs.values()), extra_mib=256)
    for name, path in bombs.items():
        outcome, seconds = results[str(path)]
        assert outcome.startswith("refused: "), (name, outcome)
        assert seconds < 10, (name, seconds)


def test_entry_count_limit_matches_the_writer(tmp_path):
    # The writer refuses what the reader would refuse, so no saved file is ever unreadable.
    arrays = {f"a{i}": np.zeros(0, np.uint8) for i in range(MAX_ENTRIES)}
    with pytest.raises(ValueError, match="at most"):
        write_archive(tmp_path / "many", arrays)
    with pytest.raises(ValueError, match="too large"):
        write_archive(tmp_path / "meta", {}, {"pad": "x" * MAX_META_BYTES})
    with pytest.raises(ValueError, match="too large"):
        write_archive(tmp_path / "meta", {}, {"lists": [[]] * 300_000})
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory) -> Path:
    """A model trained by 'chainrule train', whose file records the run (rows, metrics)."""
    pd = pytest.importorskip("pandas")
    from chainrule.cli import main

    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40), "c": rng.choice(["p", "q"], size=40)})
    frame["y"] = np.where(frame["x"] > 0, "hi", "lo")
    frame.to_csv(folder / "d.csv", index=False)
    out = folder / "m.chainrule"
    argv = ["train", str(folder / "d.csv"), "--target", "y", "--out", str(out)]
    assert main([*argv, "--hidden", "3", "--epochs", "3", "--quiet"]) == 0
    return out


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_info_on_a_forged_file_fails_in_one_clear_line(cli_model, tmp_path_factory, data):
    from chainrule.cli import main

    arrays, meta = read_archive(cli_model)
    path = data.draw(st.sampled_from([p for p in _paths(meta) if p]))
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(JSON)
    forged = tmp_path_factory.mktemp("forged") / "m.chainrule"
    write_archive(forged, arrays, meta)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["info", str(forged)])
    message = err.getvalue()
    assert code in (0, 1)
    if code == 1:
        assert message.count("\n") == 1 and "internal error" not in message, message
