"""Helpers for the reliability tests: model files to attack, hostile files, time and memory limits.

Imported by the tests (``from relkit import ...``) and by their subprocess scripts.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr

X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
LABELS = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")


# ---------------------------------------------------------------------- files to attack
@dataclass
class ModelFile:
    """A saved model: its path, its bytes, and how to run what `cr.load` returns."""

    kind: str
    path: Path
    data: bytes
    run: Callable[[Any], np.ndarray]
    reference: np.ndarray


def run_module(net: Any) -> np.ndarray:
    with cr.no_grad():
        return net(cr.Tensor(X)).data


def run_estimator(est: Any) -> np.ndarray:
    return est.predict_proba(X)


def _frame() -> Any:
    import pandas as pd

    return pd.DataFrame({"x": X[:, 0], "c": np.where(X[:, 1] > 0, "p", "n")})


def run_tabular(model: Any) -> np.ndarray:
    return model.predict_proba(_frame())


def make_model_files(folder: Path) -> dict[str, ModelFile]:
    """A network, a fitted MLPClassifier and (with pandas) a TabularModel, saved in `folder`."""
    cr.set_seed(0)
    net = cr.nn.Sequential(
        cr.nn.Dense(3, 4), cr.nn.BatchNorm(4), cr.nn.Tanh(), cr.nn.Dense(4, 2), cr.nn.Softmax()
    )
    net(cr.Tensor(X))  # training mode: the running statistics move
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, LABELS)
    objects: dict[str, tuple[Any, Callable[[Any], np.ndarray]]] = {
        "module": (net.eval(), run_module),
        "classifier": (clf, run_estimator),
    }
    try:
        from chainrule.data.tabular import TabularModel, TabularPreprocessor
    except ImportError:  # pandas is optional
        pass
    else:
        frame = _frame()
        prep = TabularPreprocessor().fit(frame)
        est = cr.MLPClassifier(hidden_layer_sizes=(3,), epochs=3, random_state=0)
        est.fit(prep.transform(frame), LABELS)
        objects["tabular"] = (
            TabularModel(est, prep, task="classification", target="label"),
            run_tabular,
        )
    files = {}
    for kind, (obj, run) in objects.items():
        path = folder / f"{kind}.chainrule"
        cr.save(obj, path)
        files[kind] = ModelFile(kind, path, path.read_bytes(), run, run(obj))
    return files


# ---------------------------------------------------------------------- loading, bounded
class Hang(Exception):
    """A call ran past its deadline."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `Hang` inside the block once it has run `seconds` (POSIX; a no-op elsewhere)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_or_refuse(path: Path, seconds: float = 10.0) -> tuple[Any, str | None]:
    """(model, None) if `cr.load` accepts the file, (None, message) if it refuses it.

    Anything but `cr.ModelFileError` (another exception, a crash, a hang) fails the test.
    """
    with deadline(seconds):
        try:
            return cr.load(path), None
        except cr.ModelFileError as exc:
            message = str(exc)
            assert message.strip(), "a ModelFileError without a message"
            return None, message


def assert_refused_or_intact(file: ModelFile, data: bytes, scratch: Path) -> bool:
    """Write `data` (a damaged copy of `file`), load it: refused, or the very same model.

    Every byte that reaches the model is CRC-checked, so a damaged file that loads differs
    only in fields nothing reads (a date, an attribute) and predicts exactly as the original.
    Returns True if it was refused.
    """
    scratch.write_bytes(data)
    model, message = load_or_refuse(scratch)
    if message is not None:
        return True
    np.testing.assert_array_equal(file.run(model), file.reference)
    return False


# ---------------------------------------------------------------------- hostile files
class Payload:
    """Unpickling this creates `marker`: proof that a loader ran code from a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps({"weights": Payload(marker)})


def object_npy_bytes(marker: Path) -> bytes:
    """A .npy file holding an object array, whose loading with allow_pickle would run code."""
    import io

    buf = io.BytesIO()
    array = np.empty(1, dtype=object)
    array[0] = Payload(marker)
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(descr: str, shape: tuple[int, ...]) -> bytes:
    """A .npy (version 1.0) header declaring `descr` and `shape`, for data written after it."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def safetensors_bytes(tensors: dict[str, np.ndarray], header_len: int | None = None) -> bytes:
    """The safetensors format, written by hand: 8-byte little-endian header length, a JSON
    header naming each tensor's dtype, shape and byte range, then the raw data."""
    names = {"float32": "F32", "float64": "F64", "int64": "I64"}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {
            "dtype": names[a.dtype.name],
            "shape": list(a.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes
    length = len(text) if header_len is None else header_len
    return struct.pack("<Q", length) + text + b"".join(blobs)


def chainrule_header(manifest: list[dict[str, Any]], meta: dict[str, Any] | None = None) -> bytes:
    return json.dumps(
        {"format": "chainrule-archive", "version": 1, "arrays": manifest, "meta": meta or {}}
    ).encode()


def raw_zip(entries: list[tuple[str, bytes]], *, layout: list[int] | None = None) -> bytes:
    """A stored (uncompressed) zip written byte by byte.

    Each entry gets a local header and its data; `layout`, if given, replaces the offsets the
    central directory records (to make entries overlap or point anywhere).
    """
    parts, offsets, records, size = [], [], [], 0
    for name, data in entries:
        offsets.append(size)
        part = _local_header(name, data) + data
        parts.append(part)
        size += len(part)
    for i, (name, data) in enumerate(entries):
        offset = offsets[i] if layout is None else layout[i]
        records.append(_central_header(name, data, offset))
    directory = b"".join(records)
    end = _end_record(min(len(entries), 0xFFFF), len(directory), size)
    data = b"".join(parts) + directory + end
    return zip64_entry_count(data, len(entries)) if len(entries) > 0xFFFF else data


def _local_header(name: str, data: bytes, sizes: tuple[int, int, int, int] | None = None) -> bytes:
    """A zip local file header; `sizes` = (method, crc, compressed, uncompressed) if not
    those of storing `data`."""
    method, crc, csize, usize = sizes or (0, zlib.crc32(data), len(data), len(data))
    encoded = name.encode()
    fixed = struct.pack(
        "<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc, csize, usize, len(encoded), 0
    )
    return fixed + encoded


def _central_header(
    name: str, data: bytes, offset: int, sizes: tuple[int, int, int, int] | None = None
) -> bytes:
    method, crc, csize, usize = sizes or (0, zlib.crc32(data), len(data), len(data))
    encoded = name.encode()
    fixed = struct.pack(
        "<4s6H3I5H2I",
        b"PK\x01\x02",
        20,
        20,
        0,
        method,
        0,
        33,
        crc,
        csize,
        usize,
        len(encoded),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return fixed + encoded


def deflate_bomb(n_bytes: int) -> bytes:
    """A chainrule-like zip whose one array entry inflates to `n_bytes` zeros (~1000:1).

    Built from one compressed 16 MiB piece repeated: a full flush makes each piece stand
    alone, so the stream is valid without compressing all of it.
    """
    chunk = 1 << 24
    assert n_bytes % chunk == 0
    header = npy_header("|u1", (n_bytes - 128,))
    header += bytes(128 - len(header))  # the data then fills exactly n_bytes
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = body.compress(header + bytes(chunk - 128)) + body.flush(zlib.Z_FULL_FLUSH)
    piece = body.compress(bytes(chunk)) + body.flush(zlib.Z_FULL_FLUSH)
    stream = first + piece * (n_bytes // chunk - 1) + body.flush()
    crc = zlib.crc32(header)
    crc = zlib.crc32(bytes(chunk - 128), crc)
    zeros = bytes(chunk)
    for _ in range(n_bytes // chunk - 1):
        crc = zlib.crc32(zeros, crc)
    sizes = (8, crc, len(stream), n_bytes)
    manifest = [{"name": "0.weight", "dtype": "|u1", "shape": [n_bytes - 128]}]
    meta = chainrule_header(manifest)
    head = _local_header("chainrule.json", meta) + meta
    entry = _local_header("arrays/0.npy", b"", sizes) + stream
    directory = _central_header("chainrule.json", meta, 0) + _central_header(
        "arrays/0.npy", b"", len(head), sizes
    )
    body_size = len(head) + len(entry)
    return head + entry + directory + _end_record(2, len(directory), body_size)


def regions(data: bytes) -> dict[str, int]:
    """Named offsets where the parts of a chainrule zip begin and end (its offset classes)."""
    import io

    out: dict[str, int] = {"start": 0}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            start = info.header_offset
            name_len, extra_len = struct.unpack("<2H", data[start + 26 : start + 30])
            body = start + 30 + name_len + extra_len
            out[f"{info.filename}: local header"] = start
            out[f"{info.filename}: name"] = start + 30
            out[f"{info.filename}: data"] = body
            if info.filename.endswith(".npy"):
                out[f"{info.filename}: values"] = body + len(_npy_header_for(0, data[body:]))
            out[f"{info.filename}: end"] = body + info.compress_size
    end = data.rfind(b"PK\x05\x06")
    directory = struct.unpack("<I", data[end + 16 : end + 20])[0]
    out["central directory"] = directory
    out["end record"] = end
    out["end"] = len(data)
    return out


def _end_record(entries: int, directory_size: int, directory_offset: int) -> bytes:
    return struct.pack(
        "<4s4H2IH", b"PK\x05\x06", 0, 0, entries, entries, directory_size, directory_offset, 0
    )


def overlapping_zip(n_arrays: int, pad: int) -> tuple[bytes, int]:
    """A zip bomb without compression: each array entry's data holds all the later entries.

    Built from the last entry backwards, each entry's data is its own .npy header, `pad`
    bytes, then the local header and data of the next entry, all read as one uint8 array.
    The file holds about ``n_arrays * pad`` bytes but declares ``n_arrays² * pad / 2``.
    Returns (the zip's bytes, the bytes its entries declare in all).
    """
    tail = b""  # local header + data of the entry after the current one
    datas: list[bytes] = []
    for i in reversed(range(n_arrays)):
        rest = bytes(pad) + tail
        header = _npy_header_for(len(rest))
        data = header + rest
        datas.append(data)
        tail = _local_header(f"arrays/{i}.npy", data) + data
    datas.reverse()
    manifest = [
        {"name": f"a{i}", "dtype": "|u1", "shape": [len(d) - len(_npy_header_for(0, d))]}
        for i, d in enumerate(datas)
    ]
    meta = chainrule_header(manifest)
    head = _local_header("chainrule.json", meta) + meta
    body = head + tail
    offsets = [0]
    position = len(head)
    for i, d in enumerate(datas):
        offsets.append(position)
        position += len(_local_header(f"arrays/{i}.npy", d)) + len(_npy_header_for(0, d)) + pad
    names = ["chainrule.json"] + [f"arrays/{i}.npy" for i in range(n_arrays)]
    records = [
        _central_header(name, data, offset)
        for name, data, offset in zip(names, [meta, *datas], offsets, strict=True)
    ]
    directory = b"".join(records)
    declared = sum(len(d) for d in datas)
    return body + directory + _end_record(len(names), len(directory), len(body)), declared


def _npy_header_for(n_bytes: int, data: bytes | None = None) -> bytes:
    """The .npy header of a uint8 array of `n_bytes` (or the header that starts `data`)."""
    if data is not None:
        length = struct.unpack("<H", data[8:10])[0]
        return data[: 10 + length]
    return npy_header("|u1", (n_bytes,))


def zip64_entry_count(data: bytes, entries: int) -> bytes:
    """`data` (a zip without a comment) with a ZIP64 end record declaring `entries` entries."""
    end = data[-22:]
    directory_size, directory_offset = struct.unpack("<2I", end[12:20])
    record_offset = len(data) - 22
    record = struct.pack(
        "<4sQ2H2I4Q",
        b"PK\x06\x06",
        44,
        45,
        45,
        0,
        0,
        entries,
        entries,
        directory_size,
        directory_offset,
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_offset, 1)
    classic = end[:8] + struct.pack("<2H", 0xFFFF, 0xFFFF) + end[12:]
    return data[:-22] + record + locator + classic


# ---------------------------------------------------------------------- memory limits
LIMITED_LOADER = textwrap.dedent(
    """
    import json, resource, sys, time
    import chainrule as cr
    import chainrule.estimators, chainrule.saving.modelfile  # imported before the limit
    try:
        import chainrule.data.tabular
    except ImportError:
        pass

    def vm_bytes():
        with open("/proc/self/status") as f:
            line = next(l for l in f if l.startswith("VmSize:"))
        return int(line.split()[1]) * 1024

    limit = vm_bytes() + int(sys.argv[1]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    results = {}
    for path in sys.argv[2:]:
        start = time.process_time()  # CPU seconds: waiting for a busy machine's cores is not cost
        try:
            cr.load(path)
            outcome = "loaded"
        except cr.ModelFileError as exc:
            outcome = "refused: " + str(exc)
        except BaseException as exc:  # MemoryError above all
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
        results[path] = [outcome, time.process_time() - start]
    print(json.dumps(results))
    """
)


def load_with_memory_limit(
    paths: list[Path], extra_mib: int, timeout: float = 120.0
) -> dict[str, list[Any]]:
    """`cr.load` each file in a child process allowed `extra_mib` MiB beyond its imports.

    Returns {path: [outcome, CPU seconds]}; the child must neither die nor run past `timeout`.
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", LIMITED_LOADER, str(extra_mib), *map(str, paths)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
