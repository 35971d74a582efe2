"""Ensembles of trees grown on the shared engine."""

from ._forest import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from ._gb import GradientBoostingClassifier, GradientBoostingRegressor
from ._weight_boosting import AdaBoostClassifier, AdaBoostRegressor
from ._xgb import XGBClassifier, XGBRegressor

__all__ = [
    "AdaBoostClassifier",
    "AdaBoostRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "XGBClassifier",
    "XGBRegressor",
]
