"""`plain_csv.read` gives the columns `io.read_table` (pandas) gives, or says it is unsure."""

from __future__ import annotations

import csv
import gzip
import io as _io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.cli import io
from chainrule.data import plain_csv

pd = pytest.importorskip("pandas")


def test_the_missing_value_strings_are_pandas_defaults() -> None:
    from pandas._libs.parsers import STR_NA_VALUES

    assert plain_csv.NA_VALUES == STR_NA_VALUES


def _same(path: Path, sep: str | None = None, text_columns: tuple[str, ...] = ()) -> bool:
    """Assert that both readers agree on every column; False if `plain_csv` is unsure."""
    frame = io.read_table(path, sep, text_columns=text_columns)
    try:
        table = plain_csv.read(path, sep, list(frame.columns), text_columns)
    except plain_csv.Unsure:
        return False
    assert table.columns == list(frame.columns)
    assert len(table) == len(frame)
    for name in frame.columns:
        ours, theirs = table[name].to_numpy(), frame[name]
        if theirs.dtype.kind in "iu":
            assert ours.dtype == np.int64, name
            assert ours.tolist() == theirs.tolist(), name
        elif theirs.dtype.kind == "f":
            assert ours.dtype == np.float64, name
            np.testing.assert_array_equal(ours, theirs.to_numpy(), err_msg=name)
            assert np.array_equal(np.signbit(ours), np.signbit(theirs.to_numpy())), name
        else:
            assert ours.dtype == object, (name, theirs.dtype)
            gaps = theirs.isna().tolist()
            assert [v is None for v in ours] == gaps, name
            present = [v for v, gap in zip(theirs.tolist(), gaps, strict=True) if not gap]
            assert [v for v in ours if v is not None] == present, name
    return True


TRICKY = {
    "plain": "a,b,c\n1,2.5,x\n3,-4e-3,y\n",
    "na strings": "a,b,c\n"
    + "".join(f"{v},{v},{v}\n" for v in sorted(plain_csv.NA_VALUES))
    + "1,2,z\n",
    "all missing": "a,b\n,1\nNA,2\n",
    "ints with a gap": "a,b\n1,x\n,y\n3,z\n",
    "signs and forms": "a,b\n+1,.5\n-0,5.\n007,1E5\n12,-0.0\n",
    "repr floats": "a\n" + "".join(f"{v!r}\n" for v in (0.1, 1 / 3, -2.5e-300, 6.02e23, 1e16)),
    "17 digits": "a\n1.2345678901234567\n0.00012345678901234567\n",
    "18 digits": "a\n1.23456789012345678\n",
    "big exponent": "a\n1e305\n",
    "infinity": "a\ninf\n1\n",
    "mixed text": "a,b\n1,x\nabc,2\n2.5,3\n",
    "near numbers": "a\n1.5.2\n3\n",
    "booleans": "a,b\nTrue,1\nfalse,2\n",
    "boolean in text": "a,b\nyes,1\ntrue,2\n",
    "quoted": 'a,b,c\n"1,5",x,"he said ""hi"""\n"2","y\nz",w\n',
    "quoted text": 'a,b,c\n"red, dark",1,"he said ""hi"""\n"blue","2","y\nz"\n',
    "spaces after delimiters": "a, b, c\n1, 2, x\n3, 4, y\n",
    "trailing spaces": "a,b\n1 ,x\n2,y \n",
    "crlf": "a,b\r\n1,x\r\n2,y\r\n",
    "lone cr": "a,b\r1,x\r2,y\r",
    "bom": "\ufeffa,b\n1,x\n",
    "blank lines": "a,b\n\n1,x\n\n2,y\n\n",
    "no final newline": "a,b\n1,x\n2,y",
    "ragged": "a,b\n1,x,extra\n2,y\n",
    "short row": "a,b,c\n1,x\n2,y,z\n",
    "duplicate names": "a,a\n1,2\n",
    "empty name": "a,\n1,2\n",
    "header only": "a,b\n",
    "empty": "",
    "semicolons": "a;b;c\n1;2.5;x\n3;4;y\n",
    "decimal comma": "a;b\n1,5;x\n2,25;y\n",
    "tabs": "a\tb\n1\tx y\n2\tz\n",
    "pipes": "a|b\n1|x\n2|y\n",
    "one column": "a\n1\n2\n",
    "hex and underscores": "a,b\n0x1A,1_000\n2,3\n",
    "unicode": "名前,値\nα,1\nβ,2\n",
    "bad quotes": 'a,b\n"x"y,1\n2,3\n',
    "quote inside": 'a,b\nx"y,1\n2,3\n',
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_tricky_files_read_alike_or_go_to_pandas(tmp_path: Path, name: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(TRICKY[name].encode("utf-8"))
    try:
        io.read_table(path)
    except ValueError:  # pandas' path reports it; ours must not read it
        with pytest.raises(plain_csv.Unsure):
            plain_csv.read(path, None, ["a"])
        return
    _same(path)


def test_common_files_are_read_here(tmp_path: Path) -> None:
    """The point of the module: ordinary files do not need pandas."""
    common = ["plain", "na strings", "signs and forms", "repr floats", "quoted text", "crlf"]
    common += ["semicolons", "tabs", "unicode", "blank lines", "spaces after delimiters"]
    for name in common:
        path = tmp_path / "t.csv"
        path.write_bytes(TRICKY[name].encode("utf-8"))
        assert _same(path), name


def test_gzip_and_text_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"id,a,b\n007,1,x\nNA,2,y\n010,3,\n"))
    assert _same(path, text_columns=("id",))
    assert plain_csv.read(path, None, ["id"], ("id",))["id"].to_numpy().tolist() == [
        "007",
        None,
        "010",
    ]


def test_what_pandas_reads_otherwise_goes_to_pandas(tmp_path: Path) -> None:
    cases = {
        "t.parquet": b"PAR1",
        "t.csv.bz2": b"a\n1\n",  # pandas infers a compression from the suffix
        "t.csv": b"a,b\n" + b"1,2\n" * (plain_csv.MAX_BYTES // 4),  # large: pandas is quicker
        "latin.csv": "a,b\né,1\n".encode("latin-1"),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(plain_csv.Unsure):
            plain_csv.read(path, None, ["a"])


def test_a_needed_column_the_file_lacks_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    assert plain_csv.read(path, None, ["b", "zzz"]).columns == ["b"]


# Cells as people and programs write them; hypothesis builds tables of them.
_NUMBERS = st.one_of(
    st.integers(-(10**17), 10**17).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6g}"),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda v: f"{v:.17e}"),
    st.from_regex(r"[+-]?\d{0,4}(\.\d{0,4})?([eE][+-]?\d{1,3})?", fullmatch=True),
)
_WORDS = st.one_of(
    st.sampled_from(["red", "Blue", "a b", "x,y", 'say "hi"', "two\nlines", "-", "007", "é"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=6),
)
_CELLS = st.one_of(_NUMBERS, _WORDS, st.sampled_from(sorted(plain_csv.NA_VALUES)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(
        st.one_of(
            st.lists(_NUMBERS, min_size=3, max_size=3), st.lists(_CELLS, min_size=3, max_size=3)
        ),
        min_size=2,
        max_size=4,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    spaced=st.booleans(),
)
def test_generated_tables_read_alike(tmp_path: Path, columns, delimiter, spaced) -> None:
    buffer = _io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow([f"c{j}" for j in range(len(columns))])
    writer.writerows(zip(*columns, strict=True))
    text = buffer.getvalue()
    if spaced:
        text = text.replace(delimiter, delimiter + " ")
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    try:
        io.read_table(path, delimiter)
    except ValueError:
        return
    _same(path, delimiter)


def test_number_rule_reads_repr_floats_exactly() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=2000) * 10.0 ** rng.integers(-250, 250, size=2000)
    for v in values:
        text = repr(float(v))
        assert plain_csv._number_kind(text) == "float"
        assert float(text) == v and not math.isinf(v)
