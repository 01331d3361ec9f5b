"""scikit-learn is an optional extra: chainrule imports without it, the estimators explain."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Runs in a fresh interpreter in which every import of sklearn fails, as if not installed.
SCRIPT = textwrap.dedent(
    """
    import sys

    class NoSklearn:
        def find_spec(self, name, path=None, target=None):
            if name == "sklearn" or name.startswith("sklearn."):
                raise ImportError("No module named 'sklearn' (blocked by the test)")
            return None

    sys.meta_path.insert(0, NoSklearn())

    import chainrule as cr

    x = cr.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]
    assert "sklearn" not in sys.modules

    for name in ("MLPClassifier", "MLPRegressor"):
        try:
            getattr(cr, name)
        except ImportError as exc:
            print(exc)
        else:
            raise SystemExit(f"cr.{name} did not raise ImportError without scikit-learn")
    try:
        import chainrule.estimators  # noqa: F401
    except ImportError as exc:
        print(exc)
    else:
        raise SystemExit("chainrule.estimators imported without scikit-learn")
    """
)


def test_chainrule_works_without_sklearn_and_estimators_say_how_to_install():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr + result.stdout
    messages = result.stdout.strip().splitlines()
    assert len(messages) == 3
    for message in messages:
        assert 'pip install "chainrule[sklearn]"' in message
