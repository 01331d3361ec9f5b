"""The model-file registry: kinds register their own (de)serializers; a file picks none by name."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from chainrule.saving import modelfile


def test_a_kind_outside_the_fixed_table_cannot_register() -> None:
    with pytest.raises(ValueError, match="unknown content kind"):
        modelfile.register_kind("os.system", (int,), lambda o, a: {}, lambda m, a: None)


def test_a_file_naming_a_module_as_its_content_is_refused(tmp_path) -> None:
    from chainrule.saving.archive import write_archive

    path = tmp_path / "m.crm"
    meta = {"kind": modelfile.MODEL_KIND, "model_version": 1, "content": "chainrule.cli"}
    write_archive(path, {}, meta)
    with pytest.raises(modelfile.ModelFileError, match="unknown content"):
        modelfile.load(path)


def test_importing_a_package_registers_its_kinds() -> None:
    code = (
        "import chainrule.saving.modelfile as m; assert not m._KINDS\n"
        "import chainrule.data.tabular; assert not m._KINDS\n"  # data knows nothing of files
        "import chainrule.saving.tabular; assert set(m._KINDS) == {'tabular'}\n"
        "import chainrule.estimators; assert set(m._KINDS) == {'tabular', 'estimator'}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_estimators_bring_the_tabular_kind() -> None:
    # A TabularModel wraps an estimator, so whoever can build one can save it.
    code = (
        "import chainrule.saving.modelfile as m, chainrule.estimators\n"
        "assert set(m._KINDS) == {'tabular', 'estimator'}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "name, moved_to",
    [
        ("archive", "saving.archive"),
        ("modelfile", "saving.modelfile"),
        ("modelspec", "saving.modelspec"),
        ("report", "cli.report"),
    ],
)
def test_the_old_module_paths_still_work(name: str, moved_to: str, monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, f"chainrule.{name}", raising=False)  # warn afresh
    with pytest.warns(DeprecationWarning, match=f"chainrule.{moved_to}"):
        old = importlib.import_module(f"chainrule.{name}")
    new = importlib.import_module(f"chainrule.{moved_to}")
    assert old.__all__ and all(getattr(old, n) is getattr(new, n) for n in old.__all__)
