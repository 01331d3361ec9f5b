"""Format versions: one check for the archive and the model description."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.saving.versions import check_version


@pytest.mark.parametrize("version", [1, 2, 3])
def test_versions_up_to_the_newest_are_read(version: int) -> None:
    assert check_version(version, 3, "model format", "0.1") == version


@pytest.mark.parametrize("version", [0, -1, True, 1.0, "1", None])
def test_a_version_that_is_not_a_whole_number_from_1_is_invalid(version: object) -> None:
    with pytest.raises(cr.ModelFileError, match=r"^'m': invalid model format"):
        check_version(version, 3, "model format", "0.1", "'m': ")


def test_a_newer_version_names_the_writer_and_asks_for_an_upgrade() -> None:
    with pytest.raises(cr.ModelFileError) as info:
        check_version(4, 3, "archive version", "9.0")
    message = str(info.value)
    assert "newer chainrule (9.0, archive version 4)" in message
    assert "reads up to archive version 3" in message and message.endswith("upgrade chainrule")
