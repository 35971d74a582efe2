"""`python -m bench.sklearn_suite`: scikit-learn's own tests of the estimators skext replaces, run
with skext's classes substituted (bench/sklearn_plugin.py): the drop-in metric.

Runs the installed scikit-learn's sklearn/tree/tests/test_tree.py,
sklearn/ensemble/tests/test_forest.py, test_weight_boosting.py and test_gradient_boosting.py from
a temporary directory with --rootdir at scikit-learn's package (its conftest fixtures load), and
writes the pass counts per file, and every failing test id with its error's first line, to
results.json and results.md under --out (default bench/results/sklearn_suite/).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

FILES = ["tree/tests/test_tree.py", "ensemble/tests/test_forest.py",
         "ensemble/tests/test_weight_boosting.py", "ensemble/tests/test_gradient_boosting.py"]


def run(files=FILES, keyword=None, timeout=3600):
    """{file: {"passed", "failed", "skipped", "failures": {test id: first line of error}}}."""
    import sklearn

    root = Path(sklearn.__file__).parent
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-p", "bench.sklearn_plugin", "-q", "-p",
               "no:cacheprovider", f"--rootdir={root}", f"--junitxml={junit}", "-o",
               "addopts=", *[str(root / f) for f in files]]
        if keyword:
            cmd += ["-k", keyword]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(repo), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        subprocess.run(cmd, cwd=tmp, env=env, timeout=timeout, stdout=subprocess.DEVNULL)
        return _parse(junit, root)


def _parse(junit, root):
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        file = case.get("classname", "").replace(".", "/")
        file = next((f for f in FILES if file.endswith(f[:-3]) or f[:-3] in file), file)
        entry = results.setdefault(file, {"passed": 0, "failed": 0, "skipped": 0,
                                          "failures": {}})
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            entry["failed"] += 1
            message = (problem.get("message") or "").strip().splitlines()
            entry["failures"][case.get("name")] = message[0][:200] if message else ""
        elif case.find("skipped") is not None:
            entry["skipped"] += 1
        else:
            entry["passed"] += 1
    return results


def write(results, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"scikit-learn": metadata.version("scikit-learn")}
    (out / "results.json").write_text(json.dumps({"meta": meta, "files": results}, indent=1))
    lines = [f"# scikit-learn {meta['scikit-learn']}'s own tests with skext substituted", "",
             "| file | passed | failed | skipped | pass rate |", "|---|---:|---:|---:|---:|"]
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for file, entry in sorted(results.items()):
        ran = entry["passed"] + entry["failed"]
        lines.append(f"| {file} | {entry['passed']} | {entry['failed']} | {entry['skipped']} | "
                     f"{entry['passed'] / max(ran, 1):.0%} |")
        for key in total:
            total[key] += entry[key]
    ran = total["passed"] + total["failed"]
    lines.append(f"| all | {total['passed']} | {total['failed']} | {total['skipped']} | "
                 f"{total['passed'] / max(ran, 1):.0%} |")
    lines += ["", "## Failures (first line of each error)", ""]
    for file, entry in sorted(results.items()):
        for name, message in sorted(entry["failures"].items()):
            lines.append(f"- `{file}::{name}`: {message}")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="keyword", default=None, help="pytest -k expression")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                              "sklearn_suite"))
    args = parser.parse_args(argv)
    total = write(run(keyword=args.keyword), args.out)
    print(json.dumps(total))


if __name__ == "__main__":
    main()
