"""`atomic_open` keeps a replaced file's permissions; a symlink is replaced, not followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving.atomic import atomic_open

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.chainrule"
    net = cr.nn.Sequential(cr.nn.Dense(2, 2))
    cr.save(net, path)
    path.chmod(mode)
    cr.save(net, path)
    assert _mode(path) == mode
    with atomic_open(path) as f:
        f.write(b"x")
    assert _mode(path) == mode and path.read_bytes() == b"x"


def test_a_new_file_gets_the_umask_default(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "new") as f:
            f.write(b"x")
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "new") == 0o644


def test_a_symlink_is_replaced_by_the_new_file_and_its_target_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "real.chainrule"
    target.write_bytes(b"old")
    link = tmp_path / "link.chainrule"
    link.symlink_to(target)
    cr.save(cr.nn.Sequential(cr.nn.Dense(2, 2)), link)
    assert not link.is_symlink() and target.read_bytes() == b"old"
    np.testing.assert_array_equal(cr.load(link)[0].weight.data.shape, (2, 2))
