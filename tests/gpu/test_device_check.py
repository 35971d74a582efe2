"""gpu/device_check.py: the one-shot GPU script, run on NumPy arrays (--dry-run) so it cannot rot
between the rare device runs."""

import json

from gpu import device_check


def test_device_check_dry_run(tmp_path, capsys):
    assert device_check.main(["--dry-run", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "device_check.json").read_text())
    assert report["dry_run"] and report["environment"]["backend"] == "numpy"
    assert all(row["mismatches"] == 0 for row in report["mixed_precision"]["casts"].values())
    attention = report["flash_attention"]
    assert len(attention["build"]) == 14
    cases = attention["correctness"]
    assert len(cases) == 54 and all(case["ok"] and case["all_written"] for case in cases)
    assert {case["kind"] for case in cases} == {"mma", "simt"}
    assert attention["gpu_tests"]["returncode"] == 0
    assert attention["timing"] and attention["timing"][0]["ours"] > 0
    printed = capsys.readouterr().out
    assert "flash attention correctness: 54/54" in printed
    assert printed.rstrip().splitlines()[-2].startswith("dtype")    # the timing table comes last
