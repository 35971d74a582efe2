"""Smoke test of the benchmark harness at tiny sizes, so it cannot rot."""

import json

import numpy as np
import pytest

from bench import datasets, peers
from bench.report import RESULT_KEYS, run_suite, validate


def test_datasets_are_deterministic():
    a = datasets.load("breast_cancer")
    b = datasets.load("breast_cancer")
    for x, y in zip(a[:4], b[:4]):
        np.testing.assert_array_equal(x, y)


def test_pairs_share_parameters():
    pytest.importorskip("xgboost")  # the XGB families' peer (the test extra installs it)
    for family in peers.FAMILIES:
        sides = dict(peers.make_pair(family, {"n_estimators": 7}, n_jobs=2))
        peer = "sklearn" if "sklearn" in sides else "xgboost"
        assert sides[peer] is not None, (family, peer)
        ours, theirs = sides["skext"].get_params(), sides[peer].get_params()
        for name in ("n_estimators", "n_jobs", "random_state", "max_features", "criterion",
                     "max_depth", "learning_rate"):
            # scikit-learn >= 1.9 deprecates GradientBoosting's criterion (its trees always use
            # squared_error, whose splits friedman_mse equals).
            if name in theirs and theirs[name] != "deprecated":
                assert ours[name] == theirs[name], (family, name)


def test_histgradientboosting_mapping_is_the_documented_one():
    # GradientBoosting(n_estimators, max_depth=3) == HGB(max_iter, max_depth=3, at most 8
    # leaves by depth, no early stopping, same learning rate).
    sides = dict(peers.make_pair("GradientBoostingClassifier", {"n_estimators": 7}, n_jobs=2))
    hgb = sides["sklearn-hist"].get_params()
    assert hgb["max_iter"] == 7 and hgb["max_depth"] == 3 and hgb["max_leaf_nodes"] is None
    assert hgb["early_stopping"] is False and hgb["learning_rate"] == 0.1
    assert "n_jobs" not in sides["sklearn"].get_params()


def test_lightgbm_mapping_is_the_documented_one():
    pytest.importorskip("lightgbm")  # the bench extra's, not the test extra's
    sides = dict(peers.make_pair("XGBClassifier", {}, n_jobs=2))
    lgbm = sides["lightgbm"].get_params()
    assert (lgbm["n_estimators"], lgbm["max_depth"], lgbm["num_leaves"]) == (100, 6, 63)
    assert (lgbm["learning_rate"], lgbm["reg_lambda"], lgbm["max_bin"]) == (0.3, 1.0, 255)
    assert sides["xgboost"].get_params()["tree_method"] == "hist"


def test_lossguide_workload_maps_max_leaves_to_num_leaves():
    sides = dict(peers.make_pair("XGBClassifier-lossguide31", {}, n_jobs=2))
    ours = sides["skext"].get_params()
    assert (ours["grow_policy"], ours["max_leaves"], ours["max_depth"]) == ("lossguide", 31, 0)
    if sides["xgboost"] is not None:    # peers are optional (the bench extra)
        assert sides["xgboost"].get_params()["max_leaves"] == 31
    if sides["lightgbm"] is not None:
        lgbm = sides["lightgbm"].get_params()
        assert (lgbm["num_leaves"], lgbm["max_depth"]) == (31, -1)
        assert "grow_policy" not in lgbm and "max_leaves" not in lgbm


def test_boosters_report_seconds_per_round_against_the_floor():
    from bench.report import run_workload

    rows = run_workload("breast_cancer", "XGBClassifier", {"n_estimators": 5}, 1, 1)
    for row in rows:
        if row["status"] == "ok":
            assert row["round_s"] == row["fit_median_s"] / 5 and row["floor_s"] > 0


def test_missing_peer_is_skipped(monkeypatch):
    monkeypatch.setitem(peers.FAMILIES, "RandomForestClassifier", (
        "skext.ensemble.RandomForestClassifier", [("nope", "no_such_package.Model", None)], {}))
    sides = dict(peers.make_pair("RandomForestClassifier", {"n_estimators": 2}, n_jobs=1))
    assert sides["nope"] is None


def test_validate_rejects_a_broken_document():
    import pytest

    with pytest.raises(ValueError, match="schema_version"):
        validate({"schema_version": 2})
    with pytest.raises(ValueError, match="missing"):
        validate({"schema_version": 1, "suite": "tiny"})


def test_scaling_slope_of_linear_times_is_one():
    from bench.report import scaling_slopes

    rows = [{"family": "F", "side": "s", "axis": "n_samples", "n_samples": n, "n_features": 3,
             "fit_s": 0.001 * n} for n in (10, 100, 1000)]
    assert abs(scaling_slopes(rows)[0]["slope"] - 1.0) < 1e-9


def test_tiny_suite_writes_valid_outputs(tmp_path):
    doc = run_suite("tiny", n_jobs=1, repeat=1, out=str(tmp_path), progress=False)
    saved = json.loads((tmp_path / "results.json").read_text())
    validate(saved)
    assert saved["schema_version"] == 1 and saved["machine"]["cpu_count"] >= 1
    for row in saved["results"]:
        assert RESULT_KEYS <= row.keys()
        assert row["fit_median_s"] > 0 and row["score"] is not None
    assert len(doc["ratios"]) == 4  # RF, ET, GB vs sklearn and vs HistGradientBoosting
    assert (tmp_path / "results.md").read_text().startswith("# skext benchmark")
    assert (tmp_path / "fit_ratios.png").stat().st_size > 1000
    assert (tmp_path / "scores.png").stat().st_size > 1000
    # Scaling curves: every (size, side) measured or skipped, slopes, the chart.
    scaling = saved["scaling"]
    assert {r["axis"] for r in scaling} == {"n_samples", "n_features"}
    assert {r["side"] for r in scaling} == {"skext", "sklearn", "sklearn-hist"}
    assert all(r["fit_s"] is None or r["fit_s"] > 0 for r in scaling)
    assert {(s["side"], s["axis"]) for s in saved["scaling_slopes"]} >= {("skext", "n_samples")}
    assert (tmp_path / "scaling.png").stat().st_size > 1000
