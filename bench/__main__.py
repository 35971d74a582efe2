"""`python -m bench`: skext against scikit-learn, xgboost and LightGBM on built-in data.

Prints a table and writes results.json, results.md, fit_ratios.png and scores.png (default:
bench/results/); --suite full adds the scaling curves (scaling.png). --suite coldstart times a
new user's first fit instead, Numba compilation included (bench/coldstart.py; written to
bench/results/coldstart/ by default).
Time on an otherwise idle machine: a busy core flatters or punishes whoever it slows most."""

import argparse
import os

from . import coldstart
from .peers import SUITES
from .report import markdown, run_suite

RESULTS = os.path.join(os.path.dirname(__file__), "results")


def build_parser():
    """The command line of `python -m bench` (README's main job runs it without arguments)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--suite", default="quick", choices=sorted(SUITES) + ["coldstart"])
    parser.add_argument("--only", default=None, help="run workloads whose dataset or family "
                        "contains this text")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="results directory (default: "
                        "bench/results, bench/results/coldstart for --suite coldstart)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.suite == "coldstart":
        out = args.out or os.path.join(RESULTS, "coldstart")
        print(coldstart.markdown(coldstart.run(only=args.only, out=out)))
        print(f"written to {out}/results.json, results.md")
        return
    args.out = args.out or RESULTS
    doc = run_suite(args.suite, n_jobs=args.n_jobs, repeat=args.repeat, only=args.only,
                    out=args.out)
    print(markdown(doc))
    charts = "fit_ratios.png, scores.png" + (", scaling.png" if doc["scaling"] else "")
    print(f"written to {args.out}/results.json, results.md, {charts}")


if __name__ == "__main__":
    main()
