"""`python -m bench --suite coldstart`: a new user's first fit, compile time included.

Each estimator runs in a new Python process with its own empty NUMBA_CACHE_DIR (cold: Numba
compiles everything the fit reaches), then in a second new process sharing that cache (warm: the
cache is loaded). Each child reports `import skext` seconds, first fit + predict seconds, Numba's
compilations ("numba:compile" events: how many, their seconds, the slowest functions) and the
dispatchers' cache misses. Also timed: every family one after another in one cold process,
`python -m skext.warmup` from an empty cache, and `import sklearn.ensemble` for reference.
Writes results.json and results.md under --out (default bench/results/coldstart/).
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata

# (estimator, data): iris for classifiers, diabetes for regressors, as the new user.
ESTIMATORS = [
    ("DecisionTreeClassifier", "iris"), ("DecisionTreeRegressor", "diabetes"),
    ("RandomForestClassifier", "iris"), ("RandomForestRegressor", "diabetes"),
    ("ExtraTreesClassifier", "iris"), ("ExtraTreesRegressor", "diabetes"),
    ("GradientBoostingClassifier", "iris"), ("GradientBoostingRegressor", "diabetes"),
    ("AdaBoostClassifier", "iris"), ("AdaBoostRegressor", "diabetes"),
    ("XGBClassifier", "iris"), ("XGBRegressor", "diabetes"),
]
# Small ensembles: the first fit is compile time either way.
PARAMS = {"RandomForestClassifier": {"n_estimators": 10}, "RandomForestRegressor":
          {"n_estimators": 10}, "ExtraTreesClassifier": {"n_estimators": 10},
          "ExtraTreesRegressor": {"n_estimators": 10}}

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from numba.core import event
recording = event.install_recorder("numba:compile")
recorder = recording.__enter__()
import skext
t_import = time.perf_counter() - t0
from sklearn import datasets
names = json.loads(sys.argv[1])
out = []
for name, data in names:
    X, y = getattr(datasets, "load_" + data)(return_X_y=True)
    est = getattr(skext, name)(**PARAMS.get(name, {}))
    n_events = len(recorder.buffer)
    t0 = time.perf_counter()
    est.fit(X, y).predict(X)
    seconds = time.perf_counter() - t0
    out.append({"estimator": name, "fit_predict_s": seconds,
                "events": recorder.buffer[n_events:]})
recording.__exit__(None, None, None)

def summary(events):
    starts, by_fn, total, n = {}, {}, 0.0, 0
    for ts, ev in events:
        key = id(ev.data["dispatcher"]), str(ev.data["args"])
        if ev.is_start:
            starts[key] = ts
        elif key in starts:
            d = ts - starts.pop(key)
            if not starts:  # outermost compilations only: nested ones are inside them
                total += d
            n += 1
            fn = ev.data["dispatcher"].py_func
            name = fn.__module__ + "." + fn.__qualname__
            by_fn[name] = by_fn.get(name, 0.0) + d
    return n, total, sorted(by_fn.items(), key=lambda kv: -kv[1])[:8]

from numba.core.dispatcher import Dispatcher
misses, seen = 0, set()
for module_name, module in list(sys.modules.items()):
    if not module_name.startswith("skext") or module is None:
        continue
    for value in vars(module).values():
        for obj in value.values() if isinstance(value, dict) else (value,):
            if isinstance(obj, Dispatcher) and id(obj) not in seen:
                seen.add(id(obj))
                misses += sum(obj.stats.cache_misses.values())
rows = []
for r in out:
    n, total, top = summary(r.pop("events"))
    r.update(compilations=n, compile_s=total, slowest=top)
    rows.append(r)
print("RESULT " + json.dumps({"import_s": t_import, "rows": rows, "cache_misses": misses}))
"""


def _child(names, cache_dir, timeout=900):
    """Run CHILD over [(estimator, data)] in a new process with NUMBA_CACHE_DIR=cache_dir."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    code = "PARAMS = " + repr(PARAMS) + "\n" + CHILD
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(names)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"coldstart child failed:\n{proc.stderr[-3000:]}")
    result = json.loads(line[len("RESULT "):])
    result["process_s"] = wall
    return result


def _import_seconds(module, repeat=5):
    """Median seconds of `import module` in a new process (the interpreter's start excluded)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True).stdout) for _ in range(repeat))
    return runs[len(runs) // 2]


def run(only=None, out=None):
    """Every measurement above; returns the results document and writes it under out."""
    estimators = [e for e in ESTIMATORS if only is None or only in e[0]]
    doc = {"suite": "coldstart", "machine": {
        "platform": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
        "versions": {p: metadata.version(p) for p in ("numba", "numpy", "scikit-learn")}},
        "rows": []}
    for name, data in estimators:
        with tempfile.TemporaryDirectory() as cache:
            cold = _child([(name, data)], cache)
            warm = _child([(name, data)], cache)
        row = {"estimator": name, "data": data,
               "cold_s": cold["rows"][0]["fit_predict_s"],
               "cold_compilations": cold["rows"][0]["compilations"],
               "cold_compile_s": cold["rows"][0]["compile_s"],
               "cold_slowest": cold["rows"][0]["slowest"],
               "warm_s": warm["rows"][0]["fit_predict_s"],
               "warm_compilations": warm["rows"][0]["compilations"],
               "warm_cache_misses": warm["cache_misses"],
               "import_s": warm["import_s"]}
        doc["rows"].append(row)
        print(f"{name:28s} cold {row['cold_s']:7.2f} s ({row['cold_compilations']} "
              f"compilations)  warm {row['warm_s']:6.3f} s  misses {row['warm_cache_misses']}",
              flush=True)
    if only is None:
        with tempfile.TemporaryDirectory() as cache:
            t0 = time.perf_counter()
            together = _child(ESTIMATORS, cache)
            doc["all_in_one_process_s"] = sum(r["fit_predict_s"] for r in together["rows"])
            doc["all_in_one_process_wall_s"] = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as cache:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "skext.warmup", "--quiet"], check=True,
                           env=dict(os.environ, NUMBA_CACHE_DIR=cache))
            doc["warmup_s"] = time.perf_counter() - t0
        doc["import_skext_s"] = _import_seconds("skext")
        doc["import_sklearn_ensemble_s"] = _import_seconds("sklearn.ensemble")
    if out is not None:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(doc, f, indent=1)
        with open(os.path.join(out, "results.md"), "w") as f:
            f.write(markdown(doc))
    return doc


def markdown(doc):
    """The results as a markdown table."""
    m = doc["machine"]
    lines = [f"# Cold start ({m['date']}, {m['cpu_count']} cores, Python {m['python']}, "
             f"numba {m['versions']['numba']})", "",
             "First fit + predict in a new process: cold = empty NUMBA_CACHE_DIR, warm = a "
             "second process on that cache (import excluded).", "",
             "| estimator | data | cold s | compilations | warm s | warm cache misses |",
             "|---|---|---:|---:|---:|---:|"]
    for r in doc["rows"]:
        lines.append(f"| {r['estimator']} | {r['data']} | {r['cold_s']:.2f} | "
                     f"{r['cold_compilations']} | {r['warm_s']:.3f} | {r['warm_cache_misses']} |")
    lines.append("")
    for key, label in [("all_in_one_process_s", "all families in one cold process (fits)"),
                       ("warmup_s", "`python -m skext.warmup` from an empty cache"),
                       ("import_skext_s", "`import skext`"),
                       ("import_sklearn_ensemble_s", "`import sklearn.ensemble`")]:
        if key in doc:
            lines.append(f"- {label}: {doc[key]:.2f} s")
    lines.append("")
    lines.append("Slowest compilations of each cold fit (seconds, nested ones counted in their "
                 "callers too):")
    lines.append("")
    for r in doc["rows"]:
        top = ", ".join(f"{name.rsplit('.', 1)[-1]} {s:.1f}" for name, s in r["cold_slowest"][:4])
        lines.append(f"- {r['estimator']}: {top}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    doc = run(only=sys.argv[1] if len(sys.argv) > 1 else None)
    print(markdown(doc))
