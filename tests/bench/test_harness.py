"""Smoke test of the benchmark harness at tiny sizes, so it cannot rot."""

import json

import numpy as np

from bench import datasets, peers
from bench.report import RESULT_KEYS, run_suite


def test_datasets_are_deterministic():
    a = datasets.load("breast_cancer")
    b = datasets.load("breast_cancer")
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)


def test_pairs_share_parameters():
    for family in peers.FAMILIES:
        sides = dict(peers.make_pair(family, {"n_estimators": 7}, n_jobs=2))
        ours, theirs = sides["skext"], sides["sklearn"]
        for name in ("n_estimators", "n_jobs", "random_state", "max_features", "criterion"):
            assert ours.get_params()[name] == theirs.get_params()[name], (family, name)


def test_missing_peer_is_skipped(monkeypatch):
    monkeypatch.setitem(peers.FAMILIES, "RandomForestClassifier", (
        "skext.ensemble.RandomForestClassifier", [("nope", "no_such_package.Model")], {}))
    sides = dict(peers.make_pair("RandomForestClassifier", {"n_estimators": 2}, n_jobs=1))
    assert sides["nope"] is None


def test_tiny_suite_writes_valid_outputs(tmp_path):
    doc = run_suite("tiny", n_jobs=1, repeat=1, out=str(tmp_path), progress=False)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["schema_version"] == 1 and saved["machine"]["cpu_count"] >= 1
    for row in saved["results"]:
        assert RESULT_KEYS <= row.keys()
        assert row["fit_median_s"] > 0 and row["score"] is not None
    assert len(doc["ratios"]) == 2
    assert (tmp_path / "results.md").read_text().startswith("# skext benchmark")
    assert (tmp_path / "fit_ratios.png").stat().st_size > 1000
