"""scikit-learn's estimator checks on every public skext estimator.

A failure here means an estimator breaks a contract that Pipeline, GridSearchCV, clone or
cross_val_score rely on."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skext import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

# Bootstrap draws make a weight of 2 differ from a repeated row (scikit-learn lists the same
# expected failure for its own forests, sklearn/utils/_test_common/instance_generator.py).
_FOREST_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": (
        "bootstrap: sample_weight is not equivalent to removing/repeating samples."),
}

ESTIMATORS = [
    DecisionTreeClassifier(),
    DecisionTreeRegressor(),
    RandomForestClassifier(n_estimators=5),
    RandomForestRegressor(n_estimators=5),
    ExtraTreesClassifier(n_estimators=5),
    ExtraTreesRegressor(n_estimators=5),
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, (RandomForestClassifier, RandomForestRegressor)):
        return _FOREST_XFAIL
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
