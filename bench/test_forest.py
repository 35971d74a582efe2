"""pytest-benchmark: ensemble fit and predict, skext and its peers in the same run.

    pytest bench --benchmark-only --benchmark-group-by=param:workload

BENCH_ROWS (default 100000 training rows) sizes the data: make_classification x 28 features,
100 trees (forests), 100 rounds of depth 3 (GradientBoosting), 200 stumps (AdaBoost), n_jobs=2."""

import os

import pytest
from sklearn.datasets import make_classification

from bench.peers import make_pair
from bench.report import PeakRSS

N_ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(int(N_ROWS * 1.25), n_features=28, n_informative=20,
                               n_redundant=4, flip_y=0.05, random_state=0)
    return X[:N_ROWS], X[N_ROWS:], y[:N_ROWS], y[N_ROWS:]


FIT_CASES = [(workload, side)
             for workload in ("RandomForestClassifier", "ExtraTreesClassifier",
                              "AdaBoostClassifier")
             for side in ("skext", "sklearn")]
FIT_CASES += [("GradientBoostingClassifier", side)
              for side in ("skext", "sklearn", "sklearn-hist")]


@pytest.mark.parametrize("workload, side", FIT_CASES)
def test_fit(benchmark, data, workload, side):
    X_tr, X_te, y_tr, y_te = data
    est = dict(make_pair(workload, {}, n_jobs=2))[side]
    est.fit(X_tr[:500], y_tr[:500])  # warm-up: Numba compile / cache load
    with PeakRSS() as mem:
        model = benchmark.pedantic(est.fit, args=(X_tr, y_tr), rounds=1, iterations=1)
    benchmark.extra_info.update(accuracy=model.score(X_te, y_te), peak_memory_mb=mem.megabytes)


@pytest.mark.parametrize("workload", ["RandomForestClassifier"])
@pytest.mark.parametrize("side", ["skext", "sklearn"])
def test_predict(benchmark, data, workload, side):
    X_tr, X_te, y_tr, y_te = data
    model = dict(make_pair(workload, {}, n_jobs=2))[side].fit(X_tr, y_tr)
    model.predict_proba(X_te[:10])
    benchmark.pedantic(model.predict_proba, args=(X_te,), rounds=3, iterations=1)
