"""The drop-in metric's harness: the plugin swaps scikit-learn's names, the runner counts."""

import textwrap

import sklearn.ensemble
import sklearn.tree

import skext
from bench import sklearn_plugin, sklearn_suite


def test_plugin_substitutes_skexts_classes(monkeypatch):
    for module, names in sklearn_plugin.SWAPPED.items():
        for name in names:
            monkeypatch.setattr(module, name, getattr(module, name))  # restored afterwards
    sklearn_plugin.pytest_configure(None)
    assert sklearn.tree.DecisionTreeClassifier is skext.DecisionTreeClassifier
    assert sklearn.ensemble.GradientBoostingRegressor is skext.GradientBoostingRegressor
    # Names skext does not implement stay scikit-learn's.
    assert sklearn.tree.ExtraTreeClassifier.__module__.startswith("sklearn.")


def test_runner_counts_junit_outcomes(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(textwrap.dedent("""\
        <testsuites><testsuite>
        <testcase classname="tree.tests.test_tree" name="test_a"/>
        <testcase classname="tree.tests.test_tree" name="test_b">
          <failure message="ValueError: sparse&#10;more">trace</failure></testcase>
        <testcase classname="ensemble.tests.test_forest" name="test_c">
          <skipped message="no"/></testcase>
        <testcase classname="ensemble.tests.test_forest" name="test_d">
          <error message="boom"/></testcase>
        </testsuite></testsuites>"""))
    results = sklearn_suite._parse(junit, tmp_path)
    tree = results["tree/tests/test_tree.py"]
    forest = results["ensemble/tests/test_forest.py"]
    assert (tree["passed"], tree["failed"], tree["skipped"]) == (1, 1, 0)
    assert tree["failures"] == {"test_b": "ValueError: sparse"}
    assert (forest["passed"], forest["failed"], forest["skipped"]) == (0, 1, 1)
    total = sklearn_suite.write(results, tmp_path / "out")
    assert total == {"passed": 1, "failed": 2, "skipped": 1}
    assert "| all | 1 | 2 | 1 | 33% |" in (tmp_path / "out" / "results.md").read_text()
