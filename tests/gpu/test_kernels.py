"""gpu/kernels/flash_fwd.cu compiled by nvcc for sm_90 (H100/H200), every variant the launcher can
pick, with the -D flags CuPy gets: no register spills, registers within the hardware's 255, the
tensor-core variants really issue mma.sync / ldmatrix / cp.async, shared memory within the opt-in
limit. Runs wherever nvcc is installed (CI has it); no GPU needed."""

import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gpu.attention import (
    KERNEL_SOURCE,
    MAX_HEAD_DIM,
    all_variants,
    shared_memory_bytes,
    variant_options,
)

NVCC = shutil.which("nvcc")
SM90_SMEM_OPT_IN = 227 * 1024
pytestmark = [pytest.mark.nvcc,
              pytest.mark.skipif(NVCC is None, reason="nvcc is not installed")]

VARIANTS = all_variants()


def variant_id(variant):
    kind, macros = variant
    return "-".join([kind] + [f"{k.lower()}{v}" for k, v in sorted(macros.items())
                              if k not in ("FA_SIMT", "NUM_WARPS", "BLOCK_N")])


def compile_variant(variant, workdir):
    """nvcc -> cubin with the ptxas report, keeping the PTX. Returns (report text, ptx text)."""
    kind, macros = variant
    keep = Path(workdir) / variant_id(variant)
    keep.mkdir()
    # CuPy's NVRTC flags: C++17, the device's arch, fp32 denormals flushed
    cmd = [NVCC, "--std=c++17", "-arch=sm_90", "-ftz=true", "-O3", "-cubin", "-Xptxas", "-v",
           "--keep",
           "--keep-dir", str(keep), *variant_options(macros), "-o", str(keep / "k.cubin"),
           str(KERNEL_SOURCE)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        return "COMPILE FAILED\n" + done.stderr, ""
    ptx = "".join(p.read_text() for p in keep.glob("*.ptx"))
    return done.stderr + done.stdout, ptx


@pytest.fixture(scope="module")
def builds():
    with tempfile.TemporaryDirectory() as workdir, ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda v: compile_variant(v, workdir), VARIANTS))
    return dict(zip(map(variant_id, VARIANTS), results))


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_variant_compiles_without_spills(builds, variant):
    report, ptx = builds[variant_id(variant)]
    assert "COMPILE FAILED" not in report, report
    kind = variant[0]
    assert f"Compiling entry function 'flash_fwd_{kind}' for 'sm_90'" in report, report
    spills = [int(n) for n in re.findall(r"(\d+) bytes spill (?:stores|loads)", report)]
    assert spills and not any(spills), report
    registers = [int(n) for n in re.findall(r"Used (\d+) registers", report)]
    assert registers and max(registers) <= 255, report
    head_dim = variant[1].get("HEAD_DIM", MAX_HEAD_DIM)
    assert shared_memory_bytes(kind, variant[1], head_dim) <= SM90_SMEM_OPT_IN
    if kind == "mma":
        bf16 = variant[1]["ELEM_KIND"] == 1
        assert f"mma.sync.aligned.m16n8k16.row.col.f32.{'bf16.bf16' if bf16 else 'f16.f16'}.f32" \
            in ptx
        assert "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16" in ptx
        assert "cp.async.cg.shared.global" in ptx
    else:
        assert "mma.sync" not in ptx
