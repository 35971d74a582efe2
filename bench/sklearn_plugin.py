"""pytest plugin: scikit-learn's own estimator tests with skext's classes in place of its own.

Loaded with `-p bench.sklearn_plugin` before the test modules are imported, it replaces the public
names of sklearn.tree / sklearn.ensemble by skext's classes, so that a test module's
`from sklearn.ensemble import RandomForestClassifier` gets skext's. Names skext does not
implement (ExtraTreeClassifier, HistGradientBoosting*, ...) stay scikit-learn's. Run through
`python -m bench.sklearn_suite`, which also sets --rootdir at scikit-learn's package so its
conftest fixtures load.
"""

import sklearn.ensemble
import sklearn.tree

import skext

SWAPPED = {
    sklearn.tree: ["DecisionTreeClassifier", "DecisionTreeRegressor"],
    sklearn.ensemble: ["RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
                       "ExtraTreesRegressor", "GradientBoostingClassifier",
                       "GradientBoostingRegressor", "AdaBoostClassifier", "AdaBoostRegressor"],
}


def pytest_configure(config):
    for module, names in SWAPPED.items():
        for name in names:
            setattr(module, name, getattr(skext, name))


def pytest_report_header(config):
    return "skext substituted for: " + ", ".join(n for names in SWAPPED.values() for n in names)
