"""`python -m skext.warmup [--jobs N] [--quiet]`: compile every family's kernels ahead of time.

A first fit on a fresh install compiles the kernels it runs (seconds per family) and Numba caches
them, so later processes load them in milliseconds. This command does that compilation once,
for every family and mode, on tiny built-in data, in N parallel processes (then once more in one
process, which only loads the cache, so that an entry lost to two processes writing one cache
index at once is compiled again). Run it where the cache will be read: at image build time in a
Docker image, in a CI cache step, on each cluster worker, with the same NUMBA_CACHE_DIR as the
processes that fit later. It prints where the cache went.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

# Groups of (estimator, parameters) that together reach every compiled kernel: each group runs
# in its own process, groups whose kernels overlap least side by side. Every fit is followed by
# predictions with and without NaN (two walk variants).
TASKS = {
    "tree": [("DecisionTreeClassifier", {}), ("DecisionTreeClassifier", {"criterion": "entropy"}),
             ("DecisionTreeClassifier", {"max_leaf_nodes": 8}),
             ("DecisionTreeRegressor", {}), ("DecisionTreeRegressor", {"splitter": "random"})],
    "forest": [("RandomForestClassifier", {"n_estimators": 3}),
               ("RandomForestRegressor", {"n_estimators": 3}),
               ("ExtraTreesClassifier", {"n_estimators": 3}),
               ("ExtraTreesRegressor", {"n_estimators": 3})],
    "boosting": [("GradientBoostingClassifier", {"n_estimators": 3}),
                 ("GradientBoostingRegressor", {"n_estimators": 3}),
                 ("GradientBoostingRegressor", {"n_estimators": 3, "n_jobs": 2}),
                 ("AdaBoostClassifier", {"n_estimators": 3}),
                 ("AdaBoostRegressor", {"n_estimators": 3})],
    "xgb": [("XGBClassifier", {"n_estimators": 3}),
            ("XGBClassifier", {"n_estimators": 3, "n_jobs": 2}),
            ("XGBRegressor", {"n_estimators": 3, "grow_policy": "lossguide", "max_leaves": 4}),
            ("XGBRegressor", {"n_estimators": 3, "n_jobs": 2, "grow_policy": "lossguide",
                              "max_leaves": 4}),
            ("XGBRegressor", {"n_estimators": 2, "tree_method": "exact"})],
}


def run_group(name):
    """Fit and predict every task of group `name` (in this process)."""
    import numpy as np
    from sklearn.datasets import load_diabetes, load_iris

    import skext

    data = {}
    X, y = load_iris(return_X_y=True)
    data["classifier"] = [(X, y), (X, (y == 1).astype(int))]  # multi-class and binary
    X, y = load_diabetes(return_X_y=True)
    data["regressor"] = [(X, y)]
    for estimator, params in TASKS[name]:
        kind = "regressor" if estimator.endswith("Regressor") else "classifier"
        for X, y in data[kind]:
            model = getattr(skext, estimator)(**params).fit(X, y)
            X_nan = X.copy()
            X_nan[::7, 0] = np.nan
            for Z in (X, X_nan):
                model.predict(Z)
                if kind == "classifier":
                    model.predict_proba(Z)


def cache_location():
    """Where Numba writes skext's cache (the directory of one kernel's index file)."""
    from skext.tree import _binning

    return os.path.dirname(_binning._map_to_bins._cache.cache_path)


def _run_in_process(name):
    """run_group(name) in a new Python process; returns (name, seconds)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skext.warmup", "--group", name], check=True)
    return name, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skext.warmup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes compiling at once (default: the CPU count)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.add_argument("--group", choices=sorted(TASKS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.group is not None:
        run_group(args.group)
        return
    from tqdm import tqdm

    t0 = time.perf_counter()
    names = sorted(TASKS, key=lambda n: -len(TASKS[n]))
    with ThreadPoolExecutor(max(1, args.jobs)) as pool, \
            tqdm(total=len(names), desc="compiling", unit="family", disable=args.quiet) as bar:
        for future in as_completed([pool.submit(_run_in_process, n) for n in names]):
            name, seconds = future.result()
            bar.set_postfix_str(f"{name} {seconds:.0f} s")
            bar.update()
    # One process over every group: loads what the parallel pass cached, compiles what it lost.
    subprocess.run([sys.executable, "-c", "import skext.warmup as w; "
                    f"[w.run_group(n) for n in {json.dumps(names)}]"], check=True)
    if not args.quiet:
        print(f"compiled in {time.perf_counter() - t0:.1f} s; cache: {cache_location()}")


if __name__ == "__main__":
    main()
