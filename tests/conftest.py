"""Hypothesis profiles: JIT compiles make the first example slow, so no deadline; CI runs few
examples (HYPOTHESIS_PROFILE=ci is the default)."""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile("device", max_examples=25, deadline=None)  # gpu.device_check
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
