"""The one file format of chainrule: NumPy arrays and JSON metadata in a zip, written atomically.

An archive is an uncompressed zip (the container ``.npz`` files use) holding

- ``chainrule.json``: ``{"format": "chainrule-archive", "version": 1, "arrays": [...],
  "meta": {...}}``, where ``arrays`` lists each array's name, dtype and shape, and ``meta`` is
  the caller's JSON (a model's architecture, a checkpoint's epoch and history);
- ``arrays/<i>.npy``: the i-th array in NumPy's ``.npy`` format, numeric dtypes only.

Loading never executes code: no pickle (object arrays are refused on both sides), JSON for
everything else. `read_archive` checks every declared size against the file before allocating
anything (entries are stored uncompressed, so nothing can expand: no zip bombs), checks each
``.npy`` header against the manifest and each entry's CRC, and reports every problem as
`chainrule.errors.ModelFileError`. A missing file raises the usual `FileNotFoundError`.

`write_archive` writes to a temporary file in the target's folder, flushes and fsyncs it, then
renames it over the target (`os.replace`, atomic on POSIX and Windows) and fsyncs the folder:
a crash at any moment leaves either the old file or the new one, never a mixture. A crash may
leave a stray ``.<name>.<random>.tmp`` file beside the target, which is safe to delete
(`remove_stale_temporaries`; `ModelCheckpoint` does it when training starts). The atomic
replacement lives in `chainrule.saving.atomic`.

Nested state with arrays inside (an optimizer's ``state_dict()``) goes through `flatten_state`
(arrays out, JSON with references left) and back through `unflatten_state`
(`chainrule.saving.state`).
"""

from __future__ import annotations

import errno
import json
import os
import zipfile
from collections.abc import Mapping
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from chainrule._version import __version__
from chainrule.errors import ModelFileError
from chainrule.saving.atomic import atomic_open, remove_stale_temporaries
from chainrule.saving.state import MAX_STATE_DEPTH, flatten_state, unflatten_state
from chainrule.saving.versions import check_version

# `atomic_open` and the state helpers are part of this module's interface too.
__all__ = [
    "MAX_ENTRIES",
    "MAX_META_BYTES",
    "MAX_STATE_DEPTH",
    "atomic_open",
    "flatten_state",
    "read_archive",
    "remove_stale_temporaries",
    "unflatten_state",
    "write_archive",
]

Array = npt.NDArray[Any]

FORMAT = "chainrule-archive"
VERSION = 1
META_ENTRY = "chainrule.json"
# Limits that keep a hostile file from exhausting memory while it is parsed (weights live in
# the arrays, whose sizes are checked against the file). Decoded JSON takes up to ~30 times
# its text in Python objects, most of it for containers, hence both a size and a count of
# containers; a zip entry takes ~600 bytes once parsed, hence a cap on the entries, checked
# from the end record before the central directory is read. `write_archive` keeps to them.
MAX_META_BYTES = 16 << 20
MAX_META_CONTAINERS = 1 << 18
MAX_ENTRIES = 1 << 18
# Numeric dtypes only: kind -> allowed item sizes in bytes.
_DTYPES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}
_CHUNK = 16 << 20  # read arrays this many bytes at a time


def _array_entry(i: int) -> str:
    return f"arrays/{i}.npy"


def _dtype_ok(dt: np.dtype[Any]) -> bool:
    return dt.fields is None and dt.subdtype is None and dt.itemsize in _DTYPES.get(dt.kind, ())


# ---------------------------------------------------------------------------- writing
def write_archive(
    path: str | os.PathLike[str], arrays: Mapping[str, Any], meta: Mapping[str, Any] | None = None
) -> None:
    """Write named arrays and JSON metadata to `path` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace; its folder must exist.
    arrays : mapping of str to array_like
        Numeric arrays (bool, int, uint, float, complex); object arrays are refused.
    meta : mapping, optional
        JSON data: dicts with string keys, lists, tuples (stored as lists), strings, numbers,
        booleans, None. Use `flatten_state` for nested state holding arrays or int keys.

    Raises
    ------
    ValueError
        A name, dtype or meta value that cannot be stored (nothing is written).
    """
    manifest, contiguous = [], []
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"array names must be non-empty strings, got {name!r}")
        a = np.asarray(value, order="C")  # no copy for the usual C-ordered arrays
        if not _dtype_ok(a.dtype):
            raise ValueError(f"array {name!r} has dtype {a.dtype}; only numeric arrays are stored")
        manifest.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape)})
        contiguous.append(a)
    _check_json(meta or {}, "meta")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "chainrule": __version__,
        "arrays": manifest,
        "meta": dict(meta or {}),
    }
    text = json.dumps(header, ensure_ascii=False).encode("utf-8")
    _check_limits(len(manifest) + 1, text)
    with atomic_open(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(META_ENTRY, text)
        for i, a in enumerate(contiguous):
            with zf.open(_array_entry(i), "w", force_zip64=a.nbytes > 1 << 30) as entry:
                np.lib.format.write_array(entry, a, allow_pickle=False)


def _check_limits(entries: int, text: bytes) -> None:
    """ValueError if `read_archive` would refuse this many entries or this metadata."""
    if entries > MAX_ENTRIES:
        raise ValueError(f"an archive holds at most {MAX_ENTRIES - 1} arrays, got {entries - 1}")
    if len(text) > MAX_META_BYTES or _containers(text) > MAX_META_CONTAINERS:
        raise ValueError(
            f"the metadata is too large to store ({len(text)} bytes of JSON, "
            f"{_containers(text)} lists and objects; the limits are {MAX_META_BYTES} and "
            f"{MAX_META_CONTAINERS}): put bulk data in the arrays"
        )


def _containers(text: bytes) -> int:
    """An upper bound on the JSON lists and objects in `text` (brackets in strings count too)."""
    return text.count(b"{") + text.count(b"[")


def _check_json(x: Any, where: str) -> None:
    """Raise ValueError unless `x` is JSON data that loads back the same (string keys)."""
    if x is None or isinstance(x, str | bool | int | float):
        return
    if isinstance(x, Mapping):
        for k, v in x.items():
            if not isinstance(k, str):
                raise ValueError(
                    f"{where} has the key {k!r}, which is not a string; JSON would turn it "
                    "into one (use chainrule.saving.state.flatten_state for such state)"
                )
            _check_json(v, f"{where}[{k!r}]")
        return
    if isinstance(x, list | tuple):
        for i, v in enumerate(x):
            _check_json(v, f"{where}[{i}]")
        return
    raise ValueError(
        f"{where} is a {type(x).__name__}; archive metadata holds only JSON data "
        "(arrays go in the arrays, or through chainrule.saving.state.flatten_state)"
    )


# ---------------------------------------------------------------------------- reading
def read_archive(
    path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> tuple[dict[str, Array], dict[str, Any]]:
    """Load the arrays and metadata written by `write_archive`, checking everything.

    Parameters
    ----------
    path : str or os.PathLike
        The archive.
    max_bytes : int, optional
        Refuse archives whose arrays add up to more than this many bytes.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        Writable arrays in native byte order, in the order they were written.
    meta : dict
        The metadata passed to `write_archive` (tuples come back as lists).

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    chainrule.errors.ModelFileError
        The file is not a chainrule archive, is damaged or truncated, or was written by a
        newer chainrule.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"no such file: {path!r}", path)
    if not os.path.isfile(path):
        raise ModelFileError(f"{path!r} is not a file")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(0)
        if not head.startswith(b"PK\x03\x04"):
            raise ModelFileError(f"{path!r} is not a chainrule file: {_describe(head, size)}")
        entries = _declared_entries(f, size)
        if entries is not None and entries > MAX_ENTRIES:
            raise ModelFileError(f"{path!r} declares {entries} entries; at most {MAX_ENTRIES}")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                return _read_zip(zf, size, max_bytes)
        except ModelFileError as exc:
            raise ModelFileError(f"{path!r}: {exc}") from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
            raise ModelFileError(f"{path!r} is damaged or truncated: {exc!r}") from exc
        except (NotImplementedError, RuntimeError, KeyError, TypeError, RecursionError) as exc:
            raise ModelFileError(f"{path!r} is not a readable chainrule file: {exc!r}") from exc


def _declared_entries(f: IO[bytes], size: int) -> int | None:
    """The entry count a zip's end record declares (None if there is none to read).

    Found as `zipfile` finds it (the record at the very end, else the last one within the
    64 KiB a comment may take), with the ZIP64 record's count where one is present.
    """
    tail_len = min(size, 22 + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    i = len(tail) - 22
    if not (i >= 0 and tail[i : i + 4] == b"PK\x05\x06" and tail[-2:] == b"\x00\x00"):
        i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < 22:
        return None
    entries = int.from_bytes(tail[i + 10 : i + 12], "little")
    locator = i - 20  # a ZIP64 end record is found through a locator just before
    if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        offset = int.from_bytes(tail[locator + 8 : locator + 16], "little")
        if 0 <= offset <= size - 56:
            f.seek(offset)
            record = f.read(56)
            if record[:4] == b"PK\x06\x06":
                entries = max(entries, int.from_bytes(record[32:40], "little"))
    return entries


def _describe(head: bytes, size: int) -> str:
    """A guess at what a foreign file is, for the error message."""
    if size == 0:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it is a bare NumPy .npy file"
    if head.startswith(b"\x80") or head.startswith(b"(dp"):
        return "it looks like a Python pickle, which chainrule never loads (it can run code)"
    if head.lstrip().startswith((b"{", b"[")):
        return "it is a text (JSON?) file"
    if head.startswith(b"\x89HDF"):
        return "it is an HDF5 file"
    if len(head) >= 10 and head[8:10] == b'{"':
        return "it looks like a safetensors file"
    return "it is not a zip archive"


def _read_zip(zf: zipfile.ZipFile, size: int, max_bytes: int | None) -> tuple[dict, dict]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ModelFileError(f"too many entries ({len(infos)})")
    by_name = {i.filename: i for i in infos}
    if len(by_name) != len(infos):
        raise ModelFileError("duplicate entry names")
    if META_ENTRY not in by_name:
        raise ModelFileError(
            f"no {META_ENTRY} entry: a zip (or plain .npz) file, but not a chainrule archive"
        )
    for info in infos:
        _check_entry(info, size)
    # Entries that share bytes (an "overlapping" zip bomb) could declare far more data than
    # the file holds; stored entries that do not overlap cannot add up to more than the file.
    if sum(info.compress_size for info in infos) > size:
        raise ModelFileError("its entries overlap: they declare more bytes than the file holds")
    meta_info = by_name[META_ENTRY]
    if meta_info.file_size > MAX_META_BYTES:
        raise ModelFileError(f"{META_ENTRY} is implausibly large ({meta_info.file_size} bytes)")
    text = zf.read(meta_info)
    if _containers(text) > MAX_META_CONTAINERS:
        raise ModelFileError(f"{META_ENTRY} holds implausibly many lists and objects")
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{META_ENTRY} is not valid JSON: {exc}") from exc
    manifest = _check_header(header)
    expected = {META_ENTRY} | {_array_entry(i) for i in range(len(manifest))}
    if set(by_name) != expected:
        odd = sorted(set(by_name) ^ expected)[:3]
        raise ModelFileError(f"entries do not match the manifest (e.g. {odd})")
    total = sum(nbytes for _, _, _, nbytes in manifest)
    if max_bytes is not None and total > max_bytes:
        raise ModelFileError(f"arrays hold {total} bytes, more than max_bytes={max_bytes}")
    arrays = {}
    for i, (name, dtype, shape, nbytes) in enumerate(manifest):
        arrays[name] = _read_npy(zf, by_name[_array_entry(i)], name, dtype, shape, nbytes)
    return arrays, header["meta"]


def _check_entry(info: zipfile.ZipInfo, size: int) -> None:
    if info.flag_bits & 0x1:
        raise ModelFileError(f"entry {info.filename!r} is encrypted")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ModelFileError(f"entry {info.filename!r} is compressed; chainrule stores entries")
    # Stored entries cannot expand: the declared size must be the bytes present in the file.
    if info.file_size != info.compress_size or info.header_offset + info.compress_size > size:
        raise ModelFileError(
            f"entry {info.filename!r} declares {info.file_size} bytes that the file does not hold"
        )


def _check_header(header: Any) -> list[tuple[str, np.dtype[Any], tuple[int, ...], int]]:
    """Validate chainrule.json; return (name, dtype, shape, nbytes) per array."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{META_ENTRY} does not name the {FORMAT!r} format")
    check_version(header.get("version"), VERSION, "archive version", header.get("chainrule", "?"))
    if not isinstance(header.get("meta"), dict) or not isinstance(header.get("arrays"), list):
        raise ModelFileError(f"{META_ENTRY} lacks its 'meta' object or 'arrays' list")
    out, seen = [], set()
    for item in header["arrays"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ModelFileError(f"malformed array record {str(item)[:80]}")
        name, shape = item["name"], item.get("shape")
        if name in seen:
            raise ModelFileError(f"array {name!r} is listed twice")
        seen.add(name)
        try:
            dtype = np.dtype(item.get("dtype"))
        except (TypeError, ValueError, SyntaxError) as exc:
            raise ModelFileError(f"array {name!r} has an invalid dtype") from exc
        if not isinstance(item.get("dtype"), str) or not _dtype_ok(dtype):
            raise ModelFileError(f"array {name!r} has the non-numeric dtype {item.get('dtype')!r}")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise ModelFileError(f"array {name!r} has an invalid shape {str(shape)[:80]}")
        if len(shape) > 32:
            raise ModelFileError(f"array {name!r} has {len(shape)} dimensions")
        nbytes = dtype.itemsize
        for d in shape:  # Python ints: an absurd shape cannot overflow
            nbytes *= d
        out.append((name, dtype, tuple(shape), nbytes))
    return out


def _read_npy(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    dtype: np.dtype[Any],
    shape: tuple[int, ...],
    nbytes: int,
) -> Array:
    fmt = np.lib.format
    with zf.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            npy_shape, fortran, npy_dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            npy_shape, fortran, npy_dtype = fmt.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"array {name!r}: unsupported .npy version {version}")
        if npy_dtype != dtype or tuple(npy_shape) != shape:
            raise ModelFileError(f"array {name!r}: its .npy header disagrees with the manifest")
        if f.tell() + nbytes != info.file_size:
            raise ModelFileError(
                f"array {name!r}: {nbytes} bytes of data declared, "
                f"{info.file_size - f.tell()} stored"
            )
        arr = np.empty(shape[::-1] if fortran else shape, dtype=dtype)
        view = memoryview(arr.reshape(-1).view(np.uint8))
        pos = 0
        while pos < nbytes:  # in chunks: no second full-size copy of the data
            chunk = f.read(min(_CHUNK, nbytes - pos))  # the CRC is checked at the end
            if not chunk:
                raise ModelFileError(f"array {name!r} is truncated")
            view[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
    if fortran:
        arr = arr.T
    if not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr
