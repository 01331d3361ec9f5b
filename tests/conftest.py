"""Shared test settings: a hypothesis profile sized so the whole suite stays fast.

Choose another profile with ``HYPOTHESIS_PROFILE=thorough pytest`` for a deeper search.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,  # timings vary on shared CI machines; speed is measured in benchmarks/
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    # Most tests train for a handful of epochs on purpose, so the estimators' ConvergenceWarning
    # ("ran all epochs without converging") is expected noise there; the tests of the warning
    # itself catch it with pytest.warns, which sees it whatever the filters say.
    try:
        import sklearn.exceptions  # noqa: F401 - only to know the warning class exists
    except ImportError:
        return
    config.addinivalue_line("filterwarnings", "ignore::sklearn.exceptions.ConvergenceWarning")
