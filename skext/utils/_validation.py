"""Input validation the estimators share on top of scikit-learn's validate_data: sparse X."""

import scipy.sparse as sp
from sklearn.utils import assert_all_finite

# The sparse formats every estimator takes (others are converted by validate_data to the first).
SPARSE_FORMATS = ["csr", "csc"]


def check_sparse_finite(estimator, X):
    """X itself; a sparse X's stored values must be finite. The scikit-learn families take NaN
    (missing) in dense X only, as scikit-learn's trees do, with its message."""
    if sp.issparse(X):
        assert_all_finite(X, allow_nan=False, estimator_name=type(estimator).__name__,
                          input_name="X")
    return X
