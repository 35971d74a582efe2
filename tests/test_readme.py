"""README's quick-start commands are what CI runs and what the project provides."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_readme_test_command():
    test_command = next(c for c in _commands() if "pytest" in c)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_readme_main_job_is_the_bench_module():
    """README's main job, `python -m bench` without arguments, runs the quick suite, and that
    suite measures every ensemble family of skext (classifier and regressor of each) beside
    its peer."""
    import skext
    from bench.__main__ import build_parser
    from bench.peers import FAMILIES, SUITES

    main_job = next(c for c in _commands() if "bench" in c)
    assert main_job.endswith("python -m bench")
    args = build_parser().parse_args([])
    families = {family for _, family, _ in SUITES[args.suite]}
    assert all(family in FAMILIES for family in families)
    ensembles = {name for name in skext.__all__ if not name.startswith(("_", "Decision"))}
    missing = ensembles - families
    assert not missing, f"the main job does not measure {sorted(missing)}"


def test_readme_links_its_own_design_document():
    """Users have the repository, not the team's shared folder."""
    text = (ROOT / "README.md").read_text()
    assert "../shared" not in text
    assert "(DESIGN.md)" in text and (ROOT / "DESIGN.md").exists()
