"""`python -m bench.sparse_probe SIDE N_ROWS N_ESTIMATORS`: one fit on the sparse workload's CSR
matrix (bench/datasets.py: sparse-100k-5000's generator at N_ROWS rows, 5000 features, 0.5%
density), its time and the process's peak resident memory. A probe for sizes where the full
sparse suite (`python -m bench --suite sparse`) takes too long on one side; SIDE is skext-xgb,
xgboost, skext-rf or sklearn-rf. Run each side in its own process, nothing else running."""

import resource
import sys
import time

from .datasets import _sparse_text_like


def _estimator(side, n_estimators):
    if side == "skext-xgb":
        from skext import XGBClassifier
        return XGBClassifier(n_estimators=n_estimators, max_depth=6, learning_rate=0.3, n_jobs=2)
    if side == "xgboost":
        from xgboost import XGBClassifier
        return XGBClassifier(n_estimators=n_estimators, max_depth=6, learning_rate=0.3, n_jobs=2,
                             tree_method="hist")
    if side == "skext-rf":
        from skext import RandomForestClassifier
        return RandomForestClassifier(n_estimators=n_estimators, n_jobs=2, random_state=0)
    from sklearn.ensemble import RandomForestClassifier
    return RandomForestClassifier(n_estimators=n_estimators, n_jobs=2, random_state=0)


def main(argv=None):
    side, n_rows, n_estimators = (argv or sys.argv[1:])[:3]
    X, y = _sparse_text_like(int(n_rows))
    model = _estimator(side, int(n_estimators))
    if side.startswith("skext"):
        model.fit(X[:200], y[:200])  # Numba compiles (or loads its cache) outside the timing
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{side} rows={n_rows} n_estimators={n_estimators} fit={seconds:.2f}s "
          f"peak_rss={peak:.0f}MB before_fit={before:.0f}MB nnz={X.nnz}")


if __name__ == "__main__":
    main()
