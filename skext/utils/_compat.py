"""The one module that touches scikit-learn's private API, so an upgrade breaks one file.

Parameter constraints and the fit context come from sklearn.utils._param_validation and
sklearn.base._fit_context (private, but the mechanism every scikit-learn estimator uses).
"""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "HasMethods",
    "Hidden",
    "Integral",
    "Interval",
    "Options",
    "Real",
    "RealNotInt",
    "StrOptions",
    "check_sample_weight",
    "fit_context",
]


def fit_context(method):
    """Validate the estimator's parameters (from _parameter_constraints) before `method`."""
    return _fit_context(prefer_skip_nested_validation=True)(method)


def check_sample_weight(sample_weight, X):
    """float64 weights of shape (n_samples,), ones when None; negative weights rejected with
    scikit-learn's message."""
    return _check_sample_weight(sample_weight, X, dtype=None, ensure_non_negative=True)
