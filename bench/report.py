"""Run a suite: fit/predict timings (interleaved A B A B, medians), scores, peak memory, Numba
compile time, scaling curves; write results.json, results.md and PNG charts (fit_ratios.png,
scores.png, and scaling.png for suites with scaling curves).

results.json (schema_version 1; `validate` checks it):

    schema_version  1
    suite, n_jobs, repeat
    machine         {platform, python, cpu_count, processor, versions {package: version|null},
                     date}
    results         one row per (dataset, family, side), keys RESULT_KEYS:
                    dataset, family, side (skext or a peer's name), params (the side's scalar
                    parameters), status ("ok" or "skipped: ..."), fit_s / predict_s (every raw
                    timing, seconds; PREDICT_ROUNDS predicts per fit), fit_median_s,
                    predict_median_s, score_name (roc_auc | accuracy | r2), score,
                    peak_memory_mb (fit, above the start),
                    warmup_s (the untimed first fit + predict: Numba compile or cache load);
                    round_s (boosters: fit_median_s / rounds), floor_s (boosters: one
                    streaming read of the binned training matrix, the bandwidth floor of a
                    histogram pass; the same number on every side), null elsewhere;
                    timing keys are null for a skipped side
    ratios          {dataset, family, peer, fit_ratio, predict_ratio, memory_ratio|null,
                     score_diff}: skext / peer, below 1 = skext faster or smaller
    scaling         {family, side, axis (n_samples | n_features), n_samples, n_features,
                     fit_s|null (null: skipped, over the time budget)}
    scaling_slopes  {family, side, axis, slope}: slope of log(fit time) vs log(size)
"""

import json
import os
import platform
import statistics
import threading
import time
from importlib import metadata

import numpy as np
from numba import njit, prange
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from threadpoolctl import threadpool_limits

from . import datasets, peers

SCHEMA_VERSION = 1
# Predict calls timed per fit (every timing kept in predict_s; the ratio uses their median).
PREDICT_ROUNDS = 5

RESULT_KEYS = {"dataset", "family", "side", "params", "fit_s", "predict_s", "fit_median_s",
               "predict_median_s", "score_name", "score", "peak_memory_mb", "warmup_s",
               "status", "round_s", "floor_s"}


RATIO_KEYS = {"dataset", "family", "peer", "fit_ratio", "predict_ratio", "memory_ratio",
              "score_diff"}
SCALING_KEYS = {"family", "side", "axis", "n_samples", "n_features", "fit_s"}


def validate(doc):
    """Raise ValueError unless doc follows the results.json schema above."""
    def need(cond, what):
        if not cond:
            raise ValueError(f"results.json: {what}")

    need(doc.get("schema_version") == SCHEMA_VERSION, "schema_version must be 1")
    for key in ("suite", "n_jobs", "repeat", "machine", "results", "ratios", "scaling",
                "scaling_slopes"):
        need(key in doc, f"missing {key}")
    need({"platform", "cpu_count", "versions", "date"} <= doc["machine"].keys(), "machine")
    for row in doc["results"]:
        need(RESULT_KEYS <= row.keys(), f"result row keys {sorted(RESULT_KEYS - row.keys())}")
        if row["status"] == "ok":
            need(len(row["fit_s"]) == doc["repeat"] and row["fit_median_s"] > 0,
                 "fit timings")
            need(row["score_name"] in ("roc_auc", "accuracy", "r2"), "score_name")
        else:
            need(row["fit_median_s"] is None, "a skipped side has no timings")
    for row in doc["ratios"]:
        need(RATIO_KEYS <= row.keys(), "ratio row keys")
    for row in doc["scaling"]:
        need(SCALING_KEYS <= row.keys() and row["axis"] in ("n_samples", "n_features"),
             "scaling row")
    return doc


class PeakRSS:
    """Peak resident memory above the starting level while the block runs (sampled every 2 ms,
    so Numba's and C allocations count, which tracemalloc would miss)."""

    def __enter__(self):
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    @property
    def megabytes(self):
        return (self.peak - self.base) / 2**20


def _score(task, estimator, X, y):
    if task == "regression":
        return "r2", float(r2_score(y, estimator.predict(X)))
    if task == "binary":
        return "roc_auc", float(roc_auc_score(y, estimator.predict_proba(X)[:, 1]))
    return "accuracy", float(accuracy_score(y, estimator.predict(X)))


def _predict(task, estimator, X):
    return estimator.predict(X) if task == "regression" else estimator.predict_proba(X)


@njit(nogil=True, parallel=True)
def stream_codes(X_binned):
    """The bandwidth floor: read every code once (feature-parallel, as a histogram pass)."""
    n_rows, n_features = X_binned.shape
    sums = np.zeros(n_features, np.int64)
    for f in prange(n_features):
        total = 0
        for i in range(n_rows):
            total += X_binned[i, f]
        sums[f] = total
    return sums


def floor_seconds(X_binned, repeat=5):
    """Fastest of `repeat` streaming reads of X_binned (after one warm-up)."""
    stream_codes(X_binned)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        stream_codes(X_binned)
        best = min(best, time.perf_counter() - t0)
    return best


def _boosting_rounds(model):
    """Rounds a fitted booster ran: skext's and xgboost's get_num_boosting_rounds, LightGBM's
    n_iter_ (None for other estimators)."""
    if hasattr(model, "get_num_boosting_rounds"):
        return model.get_num_boosting_rounds()
    return getattr(model, "n_iter_", None)


def run_workload(dataset, family, extra, n_jobs, repeat):
    """Every side of one workload, timings interleaved across sides."""
    from sklearn.base import clone

    X_tr, X_te, y_tr, y_te, task = datasets.load(dataset)
    sides = peers.make_pair(family, extra, n_jobs)
    rows = {}
    for side, est in sides:
        row = {"dataset": dataset, "family": family, "side": side, "fit_s": [], "predict_s": [],
               "status": "ok" if est is not None else "skipped: not installed",
               "params": {k: v for k, v in est.get_params().items()
                          if isinstance(v, (int, float, str, bool, type(None)))}
                          if est is not None else {}}
        if est is not None:
            # Warm-up on a small slice: Numba compiles (or loads its cache) for fit and predict
            # here, not in the timings.
            t0 = time.perf_counter()
            _predict(task, clone(est).fit(X_tr[:200], y_tr[:200]), X_te[:200])
            row["warmup_s"] = time.perf_counter() - t0
        rows[side] = row
    fitted = {}
    for _ in range(repeat):
        for side, est in sides:  # A B A B: drift hits every side alike
            if est is None:
                continue
            model = clone(est)
            # Every side gets n_jobs threads, OpenMP pools included (HistGradientBoosting).
            with threadpool_limits(limits=n_jobs), PeakRSS() as mem:
                t0 = time.perf_counter()
                model.fit(X_tr, y_tr)
                rows[side]["fit_s"].append(time.perf_counter() - t0)
            with threadpool_limits(limits=n_jobs):
                # A predict takes a fraction of a second, where one scheduling hiccup of this
                # shared machine weighs 50%: every side is timed over PREDICT_ROUNDS calls.
                for _ in range(PREDICT_ROUNDS):
                    t0 = time.perf_counter()
                    _predict(task, model, X_te)
                    rows[side]["predict_s"].append(time.perf_counter() - t0)
            rows[side]["peak_memory_mb"] = max(rows[side].get("peak_memory_mb", 0.0),
                                               mem.megabytes)
            fitted[side] = model
    floor = None
    if family.startswith("XGB") and not hasattr(X_tr, "tocsc"):
        from skext.tree._binning import BinMapper

        with threadpool_limits(limits=n_jobs):
            floor = floor_seconds(BinMapper().fit_transform(X_tr))
    for side, row in rows.items():
        if side in fitted:
            row["fit_median_s"] = statistics.median(row["fit_s"])
            row["predict_median_s"] = statistics.median(row["predict_s"])
            row["score_name"], row["score"] = _score(task, fitted[side], X_te, y_te)
            n_rounds = _boosting_rounds(fitted[side]) if floor is not None else None
            if n_rounds:
                row["round_s"] = row["fit_median_s"] / n_rounds
                row["floor_s"] = floor
        for key in RESULT_KEYS - row.keys():
            row[key] = None
    return list(rows.values())


def machine_info():
    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None
    return {
        "platform": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "processor": platform.processor(),
        "versions": {p: version(p) for p in ("numpy", "numba", "scikit-learn", "xgboost",
                                             "lightgbm", "skext")},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def ratios(results):
    """skext / peer fit and predict ratios per workload (below 1: skext is faster)."""
    out = []
    by_workload = {}
    for r in results:
        by_workload.setdefault((r["dataset"], r["family"]), {})[r["side"]] = r
    for (dataset, family), sides in by_workload.items():
        ours = sides.get("skext")
        for side, peer in sides.items():
            if side == "skext" or not ours or ours["fit_median_s"] is None \
                    or peer["fit_median_s"] is None:
                continue
            out.append({"dataset": dataset, "family": family, "peer": side,
                        "fit_ratio": ours["fit_median_s"] / peer["fit_median_s"],
                        "predict_ratio": ours["predict_median_s"] / peer["predict_median_s"],
                        "memory_ratio": (ours["peak_memory_mb"] / peer["peak_memory_mb"]
                                         if peer["peak_memory_mb"] else None),
                        "score_diff": ours["score"] - peer["score"]})
    return out


def markdown(doc):
    lines = [f"# skext benchmark ({doc['suite']} suite, n_jobs={doc['n_jobs']})", "",
             f"{doc['machine']['platform']}, {doc['machine']['cpu_count']} CPUs, "
             f"{doc['machine']['date']}; versions {doc['machine']['versions']}", "",
             "| dataset | family | side | fit s | predict s | score | peak MB | warm-up s |",
             "|---|---|---|---:|---:|---|---:|---:|"]
    for r in doc["results"]:
        if r["fit_median_s"] is None:
            lines.append(f"| {r['dataset']} | {r['family']} | {r['side']} | {r['status']} |"
                         " | | | |")
            continue
        lines.append(f"| {r['dataset']} | {r['family']} | {r['side']} | {r['fit_median_s']:.3f}"
                     f" | {r['predict_median_s']:.3f} | {r['score_name']} {r['score']:.4f} | "
                     f"{r['peak_memory_mb']:.1f} | {r['warmup_s']:.2f} |")
    lines += ["", "Ratios skext / peer (below 1: skext faster or smaller):", "",
              "| dataset | family | peer | fit | predict | peak memory | score diff |",
              "|---|---|---|---:|---:|---:|---:|"]
    for r in doc["ratios"]:
        mem = f"{r['memory_ratio']:.2f}" if r["memory_ratio"] is not None else "n/a"
        lines.append(f"| {r['dataset']} | {r['family']} | {r['peer']} | {r['fit_ratio']:.3f} | "
                     f"{r['predict_ratio']:.3f} | {mem} | {r['score_diff']:+.4f} |")
    boosters = [r for r in doc["results"] if r.get("round_s")]
    if boosters:
        lines += ["", "Boosting: seconds per round against the floor (one streaming read of the "
                  "binned training matrix):", "",
                  "| dataset | family | side | s / round | floor s | round / floor |",
                  "|---|---|---|---:|---:|---:|"]
        for r in boosters:
            lines.append(f"| {r['dataset']} | {r['family']} | {r['side']} | {r['round_s']:.4f}"
                         f" | {r['floor_s']:.5f} | {r['round_s'] / r['floor_s']:.0f} |")
    if doc.get("scaling_slopes"):
        lines += ["", "Scaling: slope of log(fit time) against log(size) (scaling.png; 1 = "
                  "linear):", "", "| family | side | axis | slope |", "|---|---|---|---:|"]
        for r in doc["scaling_slopes"]:
            lines.append(f"| {r['family']} | {r['side']} | {r['axis']} | {r['slope']:.2f} |")
    return "\n".join(lines) + "\n"


def plot(doc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rs = doc["ratios"]
    if not rs:
        return
    labels = [f"{r['family']}\n{r['dataset']} vs {r['peer']}" for r in rs]
    y = np.arange(len(rs))
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rs) + 1.5))
    ax.barh(y - 0.2, [r["fit_ratio"] for r in rs], 0.4, label="fit")
    ax.barh(y + 0.2, [r["predict_ratio"] for r in rs], 0.4, label="predict")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("time ratio skext / peer (log; < 1 = skext faster)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scores(doc, path):
    """Test score of every side per workload (same metric per row), side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["results"] if r["score"] is not None]
    workloads = list(dict.fromkeys((r["dataset"], r["family"], r["score_name"]) for r in rows))
    if not workloads:
        return
    sides = list(dict.fromkeys(r["side"] for r in rows))
    score = {(r["dataset"], r["family"], r["side"]): r["score"] for r in rows}
    y = np.arange(len(workloads))
    height = 0.8 / len(sides)
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(workloads) * max(1, len(sides) / 2) + 1.5))
    for i, side in enumerate(sides):
        values = [score.get((d, f, side), np.nan) for d, f, _ in workloads]
        ax.barh(y + (i - (len(sides) - 1) / 2) * height, values, height, label=side)
    ax.set_yticks(y, [f"{f}\n{d} ({m})" for d, f, m in workloads], fontsize=7)
    finite = [v for v in score.values() if np.isfinite(v)]
    ax.set_xlim(max(0.0, min(finite) - 0.05), min(1.0, max(finite) + 0.02))
    ax.set_xlabel("test score (roc_auc / accuracy / r2; higher is better)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_scaling(suite, n_jobs=2, only=None, progress=True):
    """Fit time of every side against n_samples and n_features (peers.SCALING[suite]); a side
    slower than the budget is skipped at the larger sizes. Returns rows {family, side, axis,
    n_samples, n_features, fit_s (None: skipped)}."""
    from sklearn.base import clone
    from tqdm import tqdm

    settings = peers.SCALING.get(suite)
    if not settings:
        return []
    rows = []
    grid = [("n_samples", n, 28) for n in settings["n_samples"]]
    grid += [("n_features", settings["n_features_rows"], d) for d in settings["n_features"]]
    families = {f: e for f, e in settings["families"].items() if not only or only in f}
    for family, extra in tqdm(families.items(), disable=not progress, desc="scaling"):
        sides = peers.make_pair(family, extra, n_jobs)
        over_budget = set()
        for axis, n, d in grid:
            X, y = datasets.scaling_data(n, d)
            for side, est in sides:
                if est is None:
                    continue
                row = {"family": family, "side": side, "axis": axis, "n_samples": n,
                       "n_features": d, "fit_s": None}
                if (axis, side) not in over_budget:
                    clone(est).fit(X[:200], y[:200])  # warm-up: compile / cache load
                    with threadpool_limits(limits=n_jobs):
                        t0 = time.perf_counter()
                        clone(est).fit(X, y)
                        row["fit_s"] = time.perf_counter() - t0
                    if row["fit_s"] > settings["budget_s"]:
                        over_budget.add((axis, side))
                rows.append(row)
    return rows


def scaling_slopes(rows):
    """Least-squares slope of log(fit time) against log(size) per (family, side, axis): ~1 means
    cost linear in the size."""
    groups = {}
    for r in rows:
        if r["fit_s"] is not None:
            size = r["n_samples"] if r["axis"] == "n_samples" else r["n_features"]
            groups.setdefault((r["family"], r["side"], r["axis"]), []).append((size, r["fit_s"]))
    out = []
    for (family, side, axis), points in groups.items():
        if len(points) >= 2:
            sizes, times = np.log(np.array(points)).T
            out.append({"family": family, "side": side, "axis": axis,
                        "slope": float(np.polyfit(sizes, times, 1)[0])})
    return out


def plot_scaling(doc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["scaling"] if r["fit_s"] is not None]
    families = sorted({r["family"] for r in rows})
    if not families:
        return
    slopes = {(s["family"], s["side"], s["axis"]): s["slope"] for s in doc["scaling_slopes"]}
    fig, axes = plt.subplots(len(families), 2, figsize=(10, 3.2 * len(families)),
                             squeeze=False)
    for i, family in enumerate(families):
        for j, axis in enumerate(("n_samples", "n_features")):
            ax = axes[i, j]
            for side in sorted({r["side"] for r in rows if r["family"] == family}):
                pts = sorted((r[axis], r["fit_s"]) for r in rows
                             if r["family"] == family and r["side"] == side
                             and r["axis"] == axis)
                if pts:
                    slope = slopes.get((family, side, axis))
                    label = side + (f" (slope {slope:.2f})" if slope is not None else "")
                    ax.plot(*zip(*pts), marker="o", label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(axis)
            ax.set_ylabel("fit s")
            ax.set_title(family, fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_suite(suite, n_jobs=2, repeat=3, only=None, out=None, progress=True):
    """Run a suite; write results.json, results.md, fit_ratios.png under `out` when given."""
    from tqdm import tqdm

    workloads = [w for w in peers.SUITES[suite]
                 if not only or only in w[0] or only in w[1]]
    results = []
    for dataset, family, extra in tqdm(workloads, disable=not progress, desc="workloads"):
        results.extend(run_workload(dataset, family, extra, n_jobs, repeat))
    doc = {"schema_version": SCHEMA_VERSION, "suite": suite, "n_jobs": n_jobs, "repeat": repeat,
           "machine": machine_info(), "results": results}
    doc["ratios"] = ratios(results)
    doc["scaling"] = run_scaling(suite, n_jobs, only, progress)
    doc["scaling_slopes"] = scaling_slopes(doc["scaling"])
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(doc, f, indent=1)
        with open(os.path.join(out, "results.md"), "w") as f:
            f.write(markdown(doc))
        plot(doc, os.path.join(out, "fit_ratios.png"))
        plot_scores(doc, os.path.join(out, "scores.png"))
        if doc["scaling"]:
            plot_scaling(doc, os.path.join(out, "scaling.png"))
    return doc
