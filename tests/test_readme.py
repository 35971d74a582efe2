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
    main_job = next(c for c in _commands() if "bench" in c)
    assert main_job.endswith("python -m bench")
    assert (ROOT / "bench" / "__main__.py").exists()
