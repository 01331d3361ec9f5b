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
