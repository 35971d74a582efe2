"""skext: scikit-learn-compatible tree ensembles on one shared Numba tree engine."""

from .utils._numba_cache import ensure_cache_location

# Before any kernel is defined: Numba must have somewhere to cache them.
ensure_cache_location()

from .ensemble import (  # noqa: E402 (after the cache check)
    AdaBoostClassifier,
    AdaBoostRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    XGBClassifier,
    XGBRegressor,
)
from .tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AdaBoostClassifier",
    "AdaBoostRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "XGBClassifier",
    "XGBRegressor",
    "__version__",
]
