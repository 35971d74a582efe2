"""Decision trees and the shared tree engine (binning, histograms, split search, growth)."""

from ._classes import DecisionTreeClassifier, DecisionTreeRegressor

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]
