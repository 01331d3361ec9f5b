"""Reading tables (`chainrule.data.files`): what is detected, and errors that name the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

from chainrule.data.files import check_input, read_table, require_column, sniff_delimiter  # noqa: E402


@pytest.mark.parametrize(
    ("head", "delimiter"),
    [("a,b,c\n1,2,3", ","), ("a;b\n1;2", ";"), ("a\tb\n", "\t"), ("a|b|c", "|"), ("a", ",")],
)
def test_the_delimiter_is_the_most_frequent_in_the_first_line(head, delimiter) -> None:
    assert sniff_delimiter(head) == delimiter


def test_semicolon_files_with_decimal_commas_read_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("x;name\n1,5;a\n-2,25;b\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["x", "name"]
    assert frame["x"].tolist() == [1.5, -2.25] and frame["name"].tolist() == ["a", "b"]


def test_a_gzipped_file_is_read_whatever_its_suffix(tmp_path: Path) -> None:
    path = tmp_path / "t.data"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert read_table(path).to_dict("list") == {"a": [1], "b": [2]}


def test_text_columns_keep_their_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("code,y\n007,1\n010,2\n", encoding="utf-8")
    assert read_table(path, text_columns=["code"])["code"].tolist() == ["007", "010"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"a,b\n", "has no data rows"),
        (b"a,b,a\n1,2,3\n", r"duplicate column names: 'a' \(columns 1, 3\)"),
        (b"a\x00b\n", "binary file"),
        (b"\xff\xfe\xfa\n", r"not a UTF-8 text \(CSV\) file"),
        (b"a;b;c\n1;2;3\n", None),  # fine: detected
    ],
)
def test_bad_files_are_named(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    if message is None:
        assert list(read_table(path).columns) == ["a", "b", "c"]
        return
    with pytest.raises(ValueError, match=message) as info:
        read_table(path)
    assert "bad.csv" in str(info.value)


def test_a_wrong_sep_says_which_delimiter_the_header_has(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="looks separated by ';'"):
        read_table(path, sep=",")


def test_a_missing_file_or_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        check_input(tmp_path / "nope.csv")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        read_table(tmp_path)


def test_a_missing_column_lists_the_columns() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(
        ValueError, match=r"column 'c' not found in 'f\.csv'; its columns are: a, b"
    ):
        require_column(frame, "c", "'f.csv'")
