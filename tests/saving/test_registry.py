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
        # the estimator classes load (and register) on first use, not with their package,
        # which brings the tabular kind (a TabularModel wraps an estimator)
        "import chainrule.estimators; assert set(m._KINDS) == {'tabular'}\n"
        "from chainrule.estimators import MLPClassifier\n"
        "assert set(m._KINDS) == {'tabular', 'estimator'}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_estimator_imported_from_its_own_module_saves(tmp_path) -> None:
    code = (
        "import sys, numpy as np, chainrule as cr\n"
        "from chainrule.estimators.regressor import MLPRegressor\n"
        "est = MLPRegressor(hidden_layer_sizes=(3,), epochs=2).fit(np.eye(4), np.arange(4.0))\n"
        "cr.save(est, sys.argv[1])\n"
        "assert np.array_equal(cr.load(sys.argv[1]).predict(np.eye(4)), est.predict(np.eye(4)))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.chainrule")], check=True)


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
