"""Old module paths keep working after the moves (`chainrule._moved`).

Public paths (`chainrule.datasets`, `chainrule.augment`, `chainrule.plotting`) are the same
module as the new one, silently; internal-looking ones import with a DeprecationWarning and
hold the new module's names; pickles that name classes by their old module still load.
"""

from __future__ import annotations

import base64
import importlib
import pickle
import subprocess
import sys
import warnings

import pytest

import chainrule  # noqa: F401  (installs the old paths)
from chainrule import _moved

PUBLIC = [
    ("chainrule.datasets", "chainrule.data.datasets"),
    ("chainrule.augment", "chainrule.data.augment"),
    ("chainrule.plotting", "chainrule.viz.plotting"),
]
DEPRECATED = [
    ("chainrule.tabular", "chainrule.data.tabular"),
    ("chainrule.tabular.columns", "chainrule.data.tabular.columns"),
    ("chainrule.tabular.model", "chainrule.data.tabular.model"),
    ("chainrule.tabular.preprocessor", "chainrule.data.tabular.preprocessor"),
    ("chainrule.tabular.target", "chainrule.data.tabular.target"),
    ("chainrule.tabular.serialize", "chainrule.saving.tabular"),
    ("chainrule.plot_style", "chainrule.viz.plot_style"),
    ("chainrule._html", "chainrule.viz.html"),
]

# A dict pickled by chainrule before the moves: a TabularModel (with its fitted
# TabularPreprocessor; estimator None), a mixup MixedTargets, and
# functools.partial(gaussian_noise, sigma=0.05). It names chainrule.tabular.model,
# chainrule.tabular.preprocessor and chainrule.augment.
OLD_PICKLE = base64.b64decode(
    "gASVUQIAAAAAAAB9lCiMBW1vZGVslIwXY2hhaW5ydWxlLnRhYnVsYXIubW9kZWyUjAxUYWJ1bGFyTW9kZWyUk5Qp"
    "gZR9lCiMCWVzdGltYXRvcpROjAxwcmVwcm9jZXNzb3KUjB5jaGFpbnJ1bGUudGFidWxhci5wcmVwcm9jZXNzb3KU"
    "jBNUYWJ1bGFyUHJlcHJvY2Vzc29ylJOUKYGUfZQojAtjYXRlZ29yaWNhbJSMBmNvbG91cpSFlIwIY29sdW1uc1+U"
    "XZQofZQojARuYW1llIwBeJSMBGtpbmSUjAdudW1lcmljlIwEbWVhbpRHQAKqqqqqqquMBXNjYWxllEc/8/ScC5rU"
    "24wHbWlzc2luZ5RLAHV9lChoFIwGY29sb3VylGgWaA6MCmNhdGVnb3JpZXOUXZQojARibHVllIwDcmVklGV1ZXVi"
    "jAR0YXNrlIwKcmVncmVzc2lvbpSMBnRhcmdldJSMAXmUjAt0YXJnZXRfbWVhbpRHP/gAAAAAAACMDHRhcmdldF9z"
    "Y2FsZZRHQAAAAAAAAACMBGluZm+UfZR1YowFbWl4ZWSUjBFjaGFpbnJ1bGUuYXVnbWVudJSMDE1peGVkVGFyZ2V0"
    "c5STlCmBlH2UKIwDeV9hlF2UKEsASwFljAN5X2KUXZQoSwFLAGWMA2xhbZRHP9AAAAAAAAB1YowFbm9pc2WUjAlm"
    "dW5jdG9vbHOUjAdwYXJ0aWFslJOUaCqMDmdhdXNzaWFuX25vaXNllJOUhZRSlChoOSl9lIwFc2lnbWGURz+pmZmZ"
    "mZmac050lGJ1Lg=="
)


def _forget(monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
    """Drop `prefix` and its submodules from sys.modules (restored after the test)."""
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        monkeypatch.delitem(sys.modules, name)


def test_the_tables_cover_every_old_path() -> None:
    assert {old for old, _ in PUBLIC} == set(_moved.SAME)
    assert {old for old, _ in DEPRECATED} <= set(_moved.MOVED)


@pytest.mark.parametrize(("old", "new"), PUBLIC)
def test_a_public_old_path_is_the_new_module_without_a_warning(old, new, monkeypatch) -> None:
    _forget(monkeypatch, old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert sys.modules[old] is module


@pytest.mark.parametrize(("old", "new"), DEPRECATED)
def test_an_internal_old_path_warns_and_holds_the_new_names(old, new, monkeypatch) -> None:
    _forget(monkeypatch, old)
    parent = old.rpartition(".")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        importlib.import_module(parent)  # chainrule.tabular warns for itself
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    current = importlib.import_module(new)
    public = [n for n in vars(current) if not n.startswith("_")]
    assert public and all(getattr(module, n) is getattr(current, n) for n in public)


def test_from_imports_of_old_submodules_work(monkeypatch) -> None:
    _forget(monkeypatch, "chainrule.tabular")
    with pytest.warns(DeprecationWarning):
        from chainrule.tabular.columns import quote
        from chainrule.tabular.model import TabularModel
    from chainrule.data.tabular import TabularModel as Current
    from chainrule.data.tabular.columns import quote as current_quote

    assert TabularModel is Current and quote is current_quote


def test_cr_plotting_is_the_viz_module() -> None:
    import chainrule as cr
    from chainrule.viz import plotting

    assert cr.plotting is plotting


def test_a_pickle_made_before_the_moves_loads() -> None:
    from chainrule.data.augment import MixedTargets, gaussian_noise
    from chainrule.data.tabular import TabularModel, TabularPreprocessor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # chainrule.tabular.* warn
        loaded = pickle.loads(OLD_PICKLE)
    model, mixed, noise = loaded["model"], loaded["mixed"], loaded["noise"]
    assert type(model) is TabularModel and type(model.preprocessor) is TabularPreprocessor
    assert model.preprocessor.feature_names_ == ["x", "colour=blue", "colour=red"]
    assert (model.task, model.target, model.target_scale) == ("regression", "y", 2.0)
    assert type(mixed) is MixedTargets and mixed.lam == 0.25
    assert noise.func is gaussian_noise and noise.keywords == {"sigma": 0.05}


def test_a_stale_folder_at_an_old_path_does_not_shadow_it(tmp_path) -> None:
    # A folder left at an old path (tabular/__pycache__ after an update) would import as an
    # empty namespace package if the alias finder came after the file finders.
    (tmp_path / "tabular" / "__pycache__").mkdir(parents=True)
    code = (
        "import warnings; warnings.simplefilter('ignore', DeprecationWarning)\n"
        "import chainrule\n"
        f"chainrule.__path__.append({str(tmp_path)!r})\n"
        "from chainrule.tabular import TabularModel\n"
        "from chainrule.data.tabular import TabularModel as New\n"
        "assert TabularModel is New\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_io_keeps_the_names_of_what_moved_out_of_it() -> None:
    from chainrule.cli import io
    from chainrule.data import datasets, files
    from chainrule.data.tabular import columns

    moved = [
        (files, ["check_input", "sniff_delimiter", "read_table", "column_list", "require_column"]),
        (files, ["_pandas", "_DELIMITERS", "_check_unique", "_header", "_check_delimiter"]),
        (datasets, ["load_digits_frame", "load_breast_cancer_frame", "DIGITS_TARGET"]),
        (columns, ["id_columns", "ID_MIN_ROWS"]),
    ]
    for module, names in moved:
        assert all(getattr(io, n) is getattr(module, n) for n in names)
    assert callable(io.load_data) and callable(io.write_table) and callable(io.read_model)
