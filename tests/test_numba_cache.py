"""Numba's cache of skext's kernels: distinct keys, stable keys, no recompilation.

Numba's cache index key is (signature, target, hash of the bytecode, hash of the pickled closure
cells); it ignores the jit options (numba#6845). Two kernels of one factory whose bytecode and
closures are equal would share one cache entry (a "parallel" kernel running the serial code), and
a closure holding a dispatcher pickles differently in every process (the cache never hits). The
first two tests check both without compiling anything; the last ones compile every family once
(python -m skext.warmup) and check that a second process loads everything from the cache.
"""

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter

import numba
import pytest
from numba.core.dispatcher import Dispatcher

import skext  # noqa: F401  (imports every kernel module)
from skext.tree._grower import _grow_kernel
from skext.tree._types import (
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_POISSON,
    CRITERION_SECOND_ORDER,
    CRITERION_SQUARED_ERROR,
)

# Grower variants the estimators make (gather, parallel, criterion, n_channels, random_splits,
# countless, sparse): made here without compiling, so that their keys are checked too.
GROWER_MODES = [
    (False, False, CRITERION_GINI, 2, False, False, False),
    (False, False, CRITERION_GINI, 3, False, False, False),
    (False, False, CRITERION_ENTROPY, 2, False, False, False),
    (False, False, CRITERION_GINI, 2, True, False, False),
    (False, False, CRITERION_SQUARED_ERROR, 3, False, False, False),
    (False, False, CRITERION_SQUARED_ERROR, 3, True, False, False),
    (False, False, CRITERION_POISSON, 3, False, False, False),
    (False, False, CRITERION_POISSON, 3, True, False, False),
    (False, False, CRITERION_FRIEDMAN_MSE, 3, False, False, False),
    (False, True, CRITERION_FRIEDMAN_MSE, 3, False, False, False),
    (True, False, CRITERION_SECOND_ORDER, 2, False, True, False),
    (True, True, CRITERION_SECOND_ORDER, 2, False, True, False),
    (True, True, CRITERION_SECOND_ORDER, 2, False, False, False),
    (True, False, CRITERION_GINI, 2, False, False, False),
    (True, True, CRITERION_GINI, 2, False, False, False),
    # Sparse X: a forest's and a booster's variant.
    (False, False, CRITERION_GINI, 3, False, False, True),
    (True, True, CRITERION_SECOND_ORDER, 2, False, False, True),
]

KEYS_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_numba_cache import cache_keys
    print(json.dumps(cache_keys()))
""")


def all_dispatchers():
    """Every Numba dispatcher skext's modules hold: module globals and the values of their
    dicts of variants (the grower variants made so far among them, _grower._GROWERS)."""
    found = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("skext") or module is None:
            continue
        for value in vars(module).values():
            for obj in value.values() if isinstance(value, dict) else (value,):
                if isinstance(obj, Dispatcher) and obj.py_func.__module__.startswith("skext"):
                    found[id(obj)] = obj
    return list(found.values())


def skext_dispatchers():
    """Every cached dispatcher defined by skext, the grower variants of GROWER_MODES included."""
    for mode in GROWER_MODES:
        _grow_kernel(*mode)
    return [obj for obj in all_dispatchers()
            if obj._cache is not None and obj._cache.__class__.__name__ != "NullCache"]


def cache_keys():
    """{index file: [index key of each kernel whose entries it holds]}, for one signature (the
    key's signature part is the caller's, the same for any two kernels compared)."""
    keys = {}
    for dispatcher in skext_dispatchers():
        cache = dispatcher._cache
        index_key = cache._index_key((), dispatcher.targetctx.codegen())
        name = os.path.basename(cache._cache_file._index_path)
        keys.setdefault(name, []).append(repr(index_key[2]))
    return {name: sorted(k) for name, k in keys.items()}


def test_every_kernel_has_its_own_cache_entry():
    """Within one index file (one qualname of one source file), every kernel's key differs:
    serial/parallel twins, criterion variants and grower variants alike. Fails when a twin
    differs from its sibling only in its jit options."""
    shared = {name: [k for k, n in Counter(keys).items() if n > 1]
              for name, keys in cache_keys().items()}
    shared = {name: k for name, k in shared.items() if k}
    assert not shared, f"kernels sharing a cache entry: {shared}"
    # The factories' kernels are all there, each in an index file of its own (kernel_variant):
    # the eight node-ordered histogram kernels (serial and threaded) and every grower variant.
    keys = cache_keys()
    builds = [k for name, k in keys.items() if name.startswith("_histogram._build_histogram_c")]
    assert [len(k) for k in builds] == [1] * 8
    growers = {name for name in keys if "_grow_" in name}
    assert len({_grower_file(mode, keys) for mode in GROWER_MODES}) == len(GROWER_MODES)
    assert all(len(keys[name]) == 1 for name in growers)


def test_every_kernel_has_its_own_name():
    """No two dispatchers share a (module, qualname): Numba names a compiled function's symbol
    after its qualname and a per-process counter, so two variants of one factory compiled in two
    processes can get one symbol with two bodies, and a process that loads both from the cache
    runs the first body loaded for both (numba#10486; a multi-output extra-trees fit after a
    Poisson fit ran the Poisson split search). Factories name each variant (kernel_variant)."""
    skext_dispatchers()
    names = Counter((d.py_func.__module__, d.py_func.__qualname__) for d in all_dispatchers())
    assert not [name for name, n in names.items() if n > 1]
    assert not [name for name in names if "<locals>" in name[1]]


def _grower_file(mode, keys):
    """The index file of a grower variant (named after its mode by _grow_kernel)."""
    name = _grow_kernel(*mode).py_func.__qualname__
    return next(file for file in keys if file.startswith(f"_grower.{name}-"))


def test_cache_keys_are_the_same_in_every_process():
    """The keys of every kernel are equal in two fresh processes: no closure holds an object
    whose pickle changes from process to process (a dispatcher does), which would make every
    new process miss the cache and write a new entry."""
    tests = os.path.dirname(__file__)
    runs = [json.loads(subprocess.run([sys.executable, "-c", KEYS_SCRIPT.format(tests=tests)],
                                      capture_output=True, text=True, check=True).stdout)
            for _ in range(2)]
    assert runs[0] == runs[1]
    # And equal to this process's (which may have made more grower variants by now).
    here = cache_keys()
    assert {name: here[name] for name in runs[0]} == runs[0]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A fresh NUMBA_CACHE_DIR filled by `python -m skext.warmup` (every family compiled)."""
    cache = tmp_path_factory.mktemp("numba-cache")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-m", "skext.warmup", "--jobs", "2"], env=env,
                         capture_output=True, text=True, check=True)
    assert str(cache) in out.stdout  # it says where the cache went
    return cache


MISSES_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    import skext.warmup as warmup
    from test_numba_cache import all_dispatchers
    for name in warmup.TASKS:
        warmup.run_group(name)
    misses, hits = {{}}, 0
    for obj in all_dispatchers():
        n = sum(obj.stats.cache_misses.values())
        hits += sum(obj.stats.cache_hits.values())
        if n:
            misses[obj.py_func.__qualname__] = n
    print(json.dumps({{"misses": misses, "hits": hits}}))
""")


@pytest.mark.slow
def test_second_process_compiles_nothing(warm_cache):
    """After the warm-up, a new process fitting every family (each warm-up task, NaN and not)
    loads every kernel from the cache: zero cache misses."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(warm_cache))
    script = MISSES_SCRIPT.format(tests=os.path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["misses"] == {}
    assert result["hits"] > 20


READONLY_SCRIPT = textwrap.dedent("""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import skext
        from sklearn.datasets import load_iris
        X, y = load_iris(return_X_y=True)
        score = skext.DecisionTreeClassifier(random_state=0).fit(X, y).score(X, y)
    import numba
    ours = [str(w.message) for w in caught if "skext: no writable location" in str(w.message)]
    print(len(ours), score, numba.config.CACHE_DIR)
""")


@pytest.mark.slow
def test_no_writable_cache_location_warns_once_and_fits(warm_cache, tmp_path):
    """Where Numba finds no writable cache location, `import skext` warns once, caches under
    the temporary directory and fits (the fallback directory is the warm cache here, so that
    the test compiles nothing)."""
    (tmp_path / f"skext-numba-cache-{os.getuid()}").symlink_to(warm_cache)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["TMPDIR"] = str(tmp_path)
    # As on an install whose package directory and home are read-only (as root, file modes do
    # not stop a write): the only cache locator left is NUMBA_CACHE_DIR's, and it is not set.
    env["NUMBA_CACHE_LOCATOR_CLASSES"] = "UserProvidedCacheLocator"
    out = subprocess.run([sys.executable, "-c", READONLY_SCRIPT], env=env, capture_output=True,
                         text=True, check=True)
    n_warnings, score, cache_dir = out.stdout.split()
    assert n_warnings == "1"
    assert float(score) == 1.0
    assert cache_dir == str(tmp_path / f"skext-numba-cache-{os.getuid()}")


def test_jit_is_on():
    """These tests mean nothing with the JIT off (tox -e nojit runs tests/tree only)."""
    assert not numba.config.DISABLE_JIT
