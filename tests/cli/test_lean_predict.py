"""``chainrule predict`` without pandas or scikit-learn answers byte for byte as with them.

Each case runs the command twice in this process: as users run it (the lean path first,
`chainrule.cli.lean_predict`), and with the lean path switched off (`predict.run_full`:
pandas reads the table, `cr.load` builds the estimator). Exit status, standard output and
standard error must be identical; for the plain cases the lean path must have answered.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import lean_predict, main

from .conftest import FAST, make_classification, make_regression


@pytest.fixture
def both(cli, monkeypatch):
    """both(*argv) -> (result, lean path taken): result of both runs, checked equal."""
    real = lean_predict.run

    def run(*argv: object) -> tuple[tuple[int, str, str], bool]:
        taken: list[bool] = []

        def spy(args):
            taken.append(real(args))
            return taken[-1]

        monkeypatch.setattr(lean_predict, "run", spy)
        lean = cli("predict", *argv)
        monkeypatch.setattr(lean_predict, "run", lambda args: False)
        full = cli("predict", *argv)
        assert lean == full, argv
        return lean, bool(taken and taken[0])

    return run


def _model(tmp_path: Path, frame, target: str, *options: str) -> Path:
    data, model = tmp_path / f"train-{target}.csv", tmp_path / f"{target}.chainrule"
    frame.to_csv(data, index=False)
    argv = ["train", str(data), "--target", target, "--out", str(model), *FAST, *options]
    assert main(argv) == 0
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """One model of each kind 'chainrule train' writes."""
    tmp_path = tmp_path_factory.mktemp("models")
    clf = make_classification()
    reg = make_regression()
    gappy = make_classification(seed=3)
    gappy.loc[::7, "x1"] = np.nan
    gappy.loc[::5, "color"] = np.nan
    ints = make_regression(seed=4).assign(zone=lambda f: np.arange(len(f)) % 4 + 10)
    ints["grade"] = (ints["price"] > ints["price"].median()).astype(int) + 1
    return {
        "classifier": _model(tmp_path, clf, "animal"),
        "regressor": _model(tmp_path, reg, "price"),
        "gaps": _model(tmp_path, gappy, "animal"),
        "int labels, categorical numbers, float64": _model(
            tmp_path,
            ints.drop(columns="price"),
            "grade",
            "--categorical",
            "zone",
            "--dtype",
            "float64",
        ),
    }


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


# Tables for the classifier's columns x1, x2, color: what the lean path reads itself.
PLAIN = {
    "pandas-written.csv": None,  # the training table itself
    "semicolons.csv": "x1;x2;color\n0.5;-1.25;red\n1e-3;+2;blue\n-0;.5;green\n",
    "tabs.tsv": "color\tx1\tx2\nred\t1\t2\ngreen\t3.5E2\t-4\n",
    "gaps.csv": "x1,x2,color\n,1,red\nNA,2,\n3,null,N/A\n#N/A,4,green\n",
    "quoted.csv": 'note,x1,x2,color\n"a, b",1,2,"red"\n"line\nbreak",3,4,blue\n',
    "crlf and bom.csv": "\ufeffx1,x2,color\r\n1,2,red\r\n\r\n3,4,blue\r\n",
    "spaces.csv": "x1, x2, color\n1, 2, red\n3, 4, blue\n",
    "gzip.csv.gz": "x1,x2,color\n1,2,red\n3,4,blue\n",
    "target present.csv": "animal,x2,x1,color\ndog,1,2,red\ncat,3,4,green\n",
}
# Tables the lean path leaves to pandas, or that are errors (reported by the full path).
OTHER = {
    "text in a number column.csv": "x1,x2,color\n1,2,red\nabc,4,blue\n",
    "unknown category.csv": "x1,x2,color\n1,2,purple\n3,4,blue\n",
    "missing column.csv": "x1,color\n1,red\n",
    "huge.csv": "x1,x2,color\n1e300,2,red\n",
    "infinite.csv": "x1,x2,color\ninf,2,red\n",
    "decimal comma.csv": "x1;x2;color\n1,5;2;red\n",
    "duplicate header.csv": "x1,x2,x1,color\n1,2,3,red\n",
    "ragged.csv": "x1,x2,color\n1,2,red,extra\n",
    "header only.csv": "x1,x2,color\n",
    "booleans.csv": "x1,x2,color\n1,2,true\n3,4,False\n",
    "long digits.csv": "x1,x2,color\n1.234567890123456789,2,red\n",
    "trailing space.csv": "x1,x2,color\n1,2,red \n",
    "gaps then unknown.csv": "x1,x2,color\n,1,red\n2,3,purple\n",
}


@pytest.mark.parametrize("name", list(PLAIN))
@pytest.mark.parametrize("options", [(), ("--proba",), ("--proba", "--digits", "3")])
def test_plain_tables_are_predicted_alike_without_pandas(
    tmp_path, both, models, name, options
) -> None:
    if PLAIN[name] is None:
        make_classification().to_csv(tmp_path / name, index=False)
        path = tmp_path / name
    else:
        path = _write(tmp_path, name, PLAIN[name])
    (code, out, err), lean = both(models["classifier"], path, *options)
    assert code == 0, err
    assert lean, "the lean path gave up on a plain table"
    assert out.count("\n") >= 3


@pytest.mark.parametrize("name", list(OTHER))
def test_other_tables_and_errors_are_answered_alike(tmp_path, both, models, name) -> None:
    path = _write(tmp_path, name, OTHER[name])
    both(models["classifier"], path)
    both(models["classifier"], path, "--unknown", "ignore", "--proba")


@pytest.mark.parametrize(
    "kind", ["classifier", "regressor", "gaps", "int labels, categorical numbers, float64"]
)
def test_every_kind_of_model_is_predicted_alike_without_pandas(
    tmp_path, both, models, kind
) -> None:
    frame = {
        "classifier": make_classification(seed=9),
        "regressor": make_regression(seed=9),
        "gaps": make_classification(seed=9),
        "int labels, categorical numbers, float64": make_regression(seed=9).assign(
            zone=lambda f: np.arange(len(f)) % 4 + 10
        ),
    }[kind]
    if kind == "gaps":
        frame.loc[::3, "x2"] = np.nan
        frame.loc[::4, "color"] = np.nan
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    options = ("--proba",) if kind != "regressor" else ("--digits", "5")
    (code, _, err), lean = both(models[kind], path, *options)
    assert code == 0, err
    assert lean, kind
    if kind == "gaps":
        assert "missing value(s) filled in" in err  # warned once, as by the full path
        assert err.count("column 'color'") == 1


def test_ids_are_copied_alike(tmp_path, both, models) -> None:
    text = "house,kind,x1,x2\n007,a,1,2\nNA,b,3,4\n010,a,5.5,6\n"
    path = _write(tmp_path, "ids.csv", text)
    (code, out, err), lean = both(models["regressor"], path, "--id", "house,kind")
    assert code == 0 and lean, err
    assert out.splitlines()[0] == "house,kind,price"
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == ["007", "", "010"]
    # an --id column the model reads as floats goes to pandas, which writes floats its way
    (code, _, err), lean = both(models["regressor"], path, "--id", "x1")
    assert code == 0 and not lean, err
    both(models["regressor"], path, "--id", "nowhere")
    both(models["regressor"], path, "--id", "price")
    # an --id column of integers the model reads (as categories) is written as pandas does
    ints = _write(tmp_path, "zones.csv", "zone,x1,x2,kind\n010,1,2,a\n11,3,4,b\n+12,5,6,a\n")
    (code, out, err), lean = both(models["int labels, categorical numbers, float64"], ints,
                                  "--id", "zone", "--proba")  # fmt: skip
    assert code == 0 and lean, err
    assert [line.split(",")[0] for line in out.splitlines()] == ["zone", "10", "11", "12"]


def test_output_files_are_written_alike(tmp_path, cli, models, monkeypatch) -> None:
    data = _write(tmp_path, "new.csv", 'x1,x2,color\n1,2,red\n3,4,"blue"\n')
    lean, full = tmp_path / "lean.csv", tmp_path / "full.csv"
    assert cli("predict", models["classifier"], data, "--out", lean, "--proba")[0] == 0
    monkeypatch.setattr(lean_predict, "run", lambda args: False)
    assert cli("predict", models["classifier"], data, "--out", full, "--proba")[0] == 0
    assert lean.read_bytes() == full.read_bytes()


def test_other_kinds_of_model_file_go_to_the_full_path(tmp_path, both) -> None:
    import chainrule as cr

    est = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=3).fit(np.eye(4), np.array([0, 1, 0, 1]))
    cr.save(est, tmp_path / "est.chainrule")
    cr.save(est.model_, tmp_path / "net.chainrule")
    path = _write(tmp_path, "rows.csv", "a,b,c,d\n1,0,0,0\n0,1,0,0\n")
    for model in ("est.chainrule", "net.chainrule"):
        (code, _, err), lean = both(tmp_path / model, path)
        assert code == 0 and not lean, err
    (code, _, err), lean = both(tmp_path / "missing.chainrule", path)
    assert code == 1 and not lean


@pytest.mark.parametrize(
    "change",
    [
        {"learning_rate": -1.0},
        {"hidden_layer_sizes": "many"},
        {"random_state": -3},
        {"class_weight": [[1]]},
    ],
)
def test_a_file_with_malformed_hyperparameters_is_refused_alike(
    tmp_path, both, models, change
) -> None:
    """They do not change predictions, but `chainrule.load` refuses such a file: so does
    the lean path (by leaving it to the full path, which reports it)."""
    from chainrule.saving.archive import read_archive, write_archive

    arrays, meta = read_archive(models["classifier"])
    meta["estimator"]["params"].update(change)
    forged = tmp_path / "forged.chainrule"
    write_archive(forged, arrays, meta)
    path = _write(tmp_path, "rows.csv", "x1,x2,color\n1,2,red\n")
    (code, _, err), lean = both(forged, path)
    assert code == 1 and not lean and "malformed" in err
