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
(`remove_stale_temporaries`; `ModelCheckpoint` does it when training starts).

Nested state with arrays inside (an optimizer's ``state_dict()``) goes through `flatten_state`
(arrays out, JSON with references left) and back through `unflatten_state`.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import stat
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from chainrule._version import __version__
from chainrule.errors import ModelFileError

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
# Nested state (`flatten_state`) deeper than this is refused on both sides: real state is a
# handful of levels deep, and rebuilding a forged 500-level tree would overflow the stack.
MAX_STATE_DEPTH = 64
# Numeric dtypes only: kind -> allowed item sizes in bytes.
_DTYPES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}
_MARKERS = ("__array__", "__scalar__", "__tuple__", "__dict__")
_CHUNK = 16 << 20  # read arrays this many bytes at a time


def _array_entry(i: int) -> str:
    return f"arrays/{i}.npy"


def _dtype_ok(dt: np.dtype[Any]) -> bool:
    return dt.fields is None and dt.subdtype is None and dt.itemsize in _DTYPES.get(dt.kind, ())


# ---------------------------------------------------------------------------- writing
@contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` only once the ``with`` block has finished.

    The data goes to a temporary file in the same folder (so the final rename cannot cross
    file systems), is flushed and fsynced, then renamed over `path`; the folder is fsynced so
    the rename itself survives a power loss. If the block raises, `path` is left untouched.

    A file replaced keeps its permission bits (a 0600 model stays 0600); a new one gets 0666
    filtered by the umask, as `open` gives. A symbolic link at `path` is replaced by the new
    file, as `os.replace` does: the file it pointed to is left unchanged.
    """
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"folder {folder!r} does not exist", folder)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # 0o666 filtered by the umask, like an ordinary open(); O_EXCL never reuses a stray file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        _keep_mode(fd, path)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _keep_mode(fd: int, path: str) -> None:
    """Give the temporary file `fd` the permission bits of the regular file at `path`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))


def remove_stale_temporaries(path: str | os.PathLike[str]) -> int:
    """Delete the temporary files that writes of `path` killed mid-way left; return how many.

    Only names `atomic_open` makes for this target (``.<name>.<12 hex digits>.tmp``) are
    touched. Call it when no other process is writing `path`.
    """
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    prefix, removed = f".{base}.", 0
    for name in os.listdir(folder):
        token = name[len(prefix) : -len(".tmp")]
        ours = name.startswith(prefix) and name.endswith(".tmp") and len(token) == 12
        if ours and all(c in "0123456789abcdef" for c in token):
            with suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, name))
                removed += 1
    return removed


def _fsync_folder(folder: str) -> None:
    if os.name != "posix":  # Windows cannot open a folder; its rename is durable enough
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support it; the rename still happened
        pass
    finally:
        os.close(fd)


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
                    "into one (use chainrule.archive.flatten_state for such state)"
                )
            _check_json(v, f"{where}[{k!r}]")
        return
    if isinstance(x, list | tuple):
        for i, v in enumerate(x):
            _check_json(v, f"{where}[{i}]")
        return
    raise ValueError(
        f"{where} is a {type(x).__name__}; archive metadata holds only JSON data "
        "(arrays go in the arrays, or through chainrule.archive.flatten_state)"
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
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"invalid format version {version!r}")
    if version > VERSION:
        raise ModelFileError(
            f"written by a newer chainrule (archive version {version}, chainrule "
            f"{header.get('chainrule', '?')}); this one reads up to version {VERSION}: upgrade"
        )
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


# ---------------------------------------------------------------------------- nested state
def flatten_state(tree: Any, prefix: str = "") -> tuple[dict[str, Array], Any]:
    """Split nested state into arrays and JSON data that refers to them.

    Arrays become ``{"__array__": name}``, NumPy scalars ``{"__scalar__": name}`` (so their
    dtype survives), tuples ``{"__tuple__": [...]}`` and dicts with non-string keys (an
    optimizer's per-parameter state) ``{"__dict__": [[key, value], ...]}``. Python numbers,
    strings, booleans and None stay as they are. `unflatten_state` reverses it exactly.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        Named by their path in `tree` (after `prefix`); not copied.
    json_tree : JSON data
    """
    arrays: dict[str, Array] = {}

    def name_for(path: str) -> str:
        name, k = prefix + path.strip("/"), 1
        while name in arrays:
            name, k = f"{prefix}{path.strip('/')}#{k}", k + 1
        return name or "value"

    def walk(x: Any, path: str, depth: int = 0) -> Any:
        if x is None or isinstance(x, str | bool | int | float):
            return x
        if depth > MAX_STATE_DEPTH:
            raise ValueError(f"state nested more than {MAX_STATE_DEPTH} levels deep at {path!r}")
        if isinstance(x, np.ndarray | np.generic):
            name = name_for(path)
            arrays[name] = np.asarray(x)
            return {"__array__" if isinstance(x, np.ndarray) else "__scalar__": name}
        if isinstance(x, tuple):
            return {"__tuple__": [walk(v, f"{path}/{i}", depth + 1) for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [walk(v, f"{path}/{i}", depth + 1) for i, v in enumerate(x)]
        if isinstance(x, Mapping):
            plain = all(isinstance(k, str) for k in x) and not (
                len(x) == 1 and next(iter(x)) in _MARKERS
            )
            if plain:
                return {k: walk(v, f"{path}/{k}", depth + 1) for k, v in x.items()}
            return {
                "__dict__": [
                    [walk(k, path, depth + 1), walk(v, f"{path}/{k}", depth + 1)]
                    for k, v in x.items()
                ]
            }
        raise ValueError(
            f"cannot store a {type(x).__name__} at {path or '/'!r}: state may hold only "
            "numbers, strings, None, lists, tuples, dicts and NumPy arrays"
        )

    return arrays, walk(tree, "")


def unflatten_state(json_tree: Any, arrays: Mapping[str, Array]) -> Any:
    """Rebuild the state `flatten_state` split.

    Raises ModelFileError if an array is missing or the tree is nested more than
    `MAX_STATE_DEPTH` levels deep (checked before descending, so never a RecursionError).
    """

    def get(name: Any) -> Array:
        if not isinstance(name, str) or name not in arrays:
            raise ModelFileError(f"the state refers to a missing array {name!r}")
        return arrays[name]

    def walk(x: Any, depth: int) -> Any:
        if not isinstance(x, list | dict):
            return x
        if depth > MAX_STATE_DEPTH:
            raise ModelFileError(f"the state is nested more than {MAX_STATE_DEPTH} levels deep")
        if isinstance(x, list):
            return [walk(v, depth + 1) for v in x]
        if len(x) == 1:
            ((key, value),) = x.items()
            if key == "__array__":
                return get(value)
            if key == "__scalar__":
                return get(value)[()]
            if key == "__tuple__" and isinstance(value, list):
                return tuple(walk(v, depth + 1) for v in value)
            if key == "__dict__" and isinstance(value, list):
                try:
                    return {walk(k, depth + 1): walk(v, depth + 1) for k, v in value}
                except (TypeError, ValueError) as exc:
                    raise ModelFileError(f"malformed dict in the state: {exc}") from exc
        return {k: walk(v, depth + 1) for k, v in x.items()}

    return walk(json_tree, 0)
