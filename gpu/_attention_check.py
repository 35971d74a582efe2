"""Flash-attention part of `python -m gpu.device_check`: build every kernel variant, check it on
tail shapes against float64 and same-precision references (FlashAttention's 2x error budget, a
NaN-poisoned output fully overwritten), run the `gpu`-marked tests, and time it against torch's
scaled_dot_product_attention backends. On --dry-run the same steps run on NumPy at small sizes.
"""

import math
import os
import subprocess
import sys
import time

import ml_dtypes
import numpy as np

from . import attention
from .reference import attention_naive_lowp, attention_reference

DTYPES = {"fp16": np.dtype(np.float16), "bf16": np.dtype(ml_dtypes.bfloat16),
          "fp32": np.dtype(np.float32)}
CHECK_SHAPES = [(1, 1), (17, 17), (100, 257), (257, 100), (1000, 1000), (4096, 4096)]
DRY_SHAPES = [(1, 1), (17, 17), (100, 57)]


def _try_import(name):
    try:
        return __import__(name)
    except Exception:  # a broken optional install must not stop the check
        return None


def environment(xp):
    env = {}
    for name in ("torch", "triton"):
        module = _try_import(name)
        env[name] = getattr(module, "__version__", None)
    try:
        env["nvcc"] = subprocess.run(["nvcc", "--version"], capture_output=True, text=True,
                                     timeout=30).stdout.strip().splitlines()[-1]
    except Exception:
        env["nvcc"] = None
    if xp is not np:
        props = xp.cuda.runtime.getDeviceProperties(0)
        env["smem_per_block_optin"] = props.get("sharedMemPerBlockOptin")
        env["compute_capability"] = f"{props['major']}.{props['minor']}"
    return env


def build_variants(xp):
    """Compile every variant through CuPy (cold cache on a fresh machine); its resources."""
    rows = []
    for kind, macros in attention.all_variants():
        options = attention.variant_options(macros)
        row = {"kind": kind, "options": " ".join(options)}
        if xp is not np:
            t0 = time.perf_counter()
            kernel = attention._compiled_kernel(kind, options)
            num_regs = kernel.num_regs                           # forces the compile
            row.update(seconds=round(time.perf_counter() - t0, 2), num_regs=num_regs,
                       local_size_bytes=kernel.local_size_bytes)
        rows.append(row)
    return rows


def _host(a):
    return a.get() if hasattr(a, "get") else a


def _references(q, k, v, causal, torch):
    """(float64 reference, naive formula in the inputs' dtype) as NumPy; on the GPU through torch
    when it is there (the host would take minutes at N = 4096)."""
    if torch is None:
        host = [_host(a) for a in (q, k, v)]
        return (attention_reference(*host, causal=causal),
                attention_naive_lowp(*host, causal=causal).astype(np.float64))
    bf16 = q.dtype == DTYPES["bf16"]
    tensors = [torch.from_dlpack(a.view(np.int16) if bf16 else a) for a in (q, k, v)]
    if bf16:
        tensors = [t.view(torch.bfloat16) for t in tensors]
    scale = 1 / math.sqrt(q.shape[-1])
    mask = torch.ones(q.shape[2], k.shape[2], dtype=torch.bool, device="cuda").tril()

    def naive(tq, tk, tv):
        scores = (tq @ tk.transpose(-1, -2)) * scale
        if causal:
            scores = scores.masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1) @ tv

    ref = naive(*(t.double() for t in tensors))
    return ref.cpu().numpy(), naive(*tensors).double().cpu().numpy()


def _check_case(xp, torch, rng, dtype, head_dim, causal, n_q, n_k):
    shapes = [(1, 2, n_q, head_dim), (1, 2, n_k, head_dim), (1, 2, n_k, head_dim)]
    q, k, v = (xp.asarray(rng.standard_normal(s).astype(dtype)) for s in shapes)
    out = xp.full(q.shape, np.nan, dtype=q.dtype)                # poisoned: must be overwritten
    lse = xp.full(q.shape[:3], np.nan, dtype=np.float32)
    if xp is np:
        out[...], lse[...] = attention.flash_attention(q, k, v, causal=causal, return_lse=True)
    else:
        attention._flash_attention_cupy(q, k, v, causal, 1 / math.sqrt(head_dim), out=out, lse=lse)
    ref, naive = _references(q, k, v, causal, torch)
    got, got_lse = _host(out).astype(np.float64), _host(lse)
    rounding = np.abs((ref + 0.3).astype(dtype).astype(np.float64) - 0.3 - ref).max()
    err = float(np.abs(got - ref).max())
    budget = float(2 * np.abs(naive - ref).max() + 2 * rounding)
    lse_err = None
    if n_q * n_k <= 10**6:                                       # host float64 LSE
        _, ref_lse = attention_reference(*(_host(a) for a in (q, k, v)), causal=causal,
                                         return_lse=True)
        lse_err = float(np.abs(got_lse - ref_lse).max())
    written = bool(np.isfinite(got).all() and np.isfinite(got_lse).all())
    return {"max_err": err, "budget": budget, "lse_err": lse_err, "all_written": written,
            "ok": bool(err <= budget and written and (lse_err is None or lse_err < 1e-3))}


def check_correctness(xp, dry_run):
    """Tail shapes x dtype x causal x head_dim: error vs float64 within 2x the naive formula's
    error in the same dtype; output and LSE buffers poisoned with NaN and fully overwritten."""
    torch = None if dry_run else _try_import("torch")
    rows = []
    rng = np.random.default_rng(0)
    for dtype_name, dtype in DTYPES.items():
        for head_dim in (64, 128, 40):
            for causal in (False, True):
                for n_q, n_k in DRY_SHAPES if dry_run else CHECK_SHAPES:
                    row = {"dtype": dtype_name, "head_dim": head_dim, "causal": causal,
                           "n_q": n_q, "n_k": n_k,
                           "kind": attention.kernel_variant(dtype, head_dim, causal)[0]}
                    row.update(_check_case(xp, torch, rng, dtype, head_dim, causal, n_q, n_k))
                    rows.append(row)
    return rows


def run_gpu_tests(dry_run):
    """The `gpu`-marked tests with the device Hypothesis profile (collect-only on --dry-run)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = [sys.executable, "-m", "pytest", os.path.join(root, "tests", "gpu"), "-m", "gpu", "-q",
           "-x", "-p", "no:cacheprovider"] + (["--collect-only"] if dry_run else [])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=300,
                          env={**os.environ, "HYPOTHESIS_PROFILE": "device"})
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"returncode": done.returncode, "summary": lines[-1] if lines else "",
            "seconds": round(time.perf_counter() - t0, 1)}


def _torch_to_cupy(t):
    import cupy

    if str(t.dtype) == "torch.bfloat16":
        import torch

        return cupy.from_dlpack(t.view(torch.int16)).view(DTYPES["bf16"])
    return cupy.from_dlpack(t)


def time_against_sdpa(dry_run):
    """TFLOP/s = 4 B H Nq Nk D / t (halved when causal) for ours and each SDPA backend."""
    rows = []
    if dry_run:
        q = np.random.default_rng(0).standard_normal((1, 2, 128, 64)).astype(np.float16)
        t0 = time.perf_counter()
        attention.flash_attention(q, q, q, causal=True)
        seconds = time.perf_counter() - t0
        rows.append({"dtype": "fp16", "bh": 2, "n": 128, "head_dim": 64, "causal": True,
                     "ours": 4 * 2 * 128 * 128 * 64 / 2 / seconds / 1e12})
        return rows
    import cupy
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    triton = _try_import("triton.testing")

    def bench(fn):
        if triton is not None:
            return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median") / 1e3
        fn()
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(20):
            fn()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 20 / 1e3

    backends = {"sdpa_flash": SDPBackend.FLASH_ATTENTION, "sdpa_cudnn": SDPBackend.CUDNN_ATTENTION,
                "sdpa_efficient": SDPBackend.EFFICIENT_ATTENTION}
    stream = cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream)

    def time_case(tdtype, bh, head_dim, causal, n):
        tq, tk, tv = (torch.randn((bh // 16, 16, n, head_dim), dtype=tdtype, device="cuda")
                      for _ in range(3))
        cq, ck, cv = (_torch_to_cupy(t) for t in (tq, tk, tv))
        tflop = 4 * bh * n * n * head_dim / (2 if causal else 1) / 1e12

        def ours():
            with stream:
                attention.flash_attention(cq, ck, cv, causal=causal)

        times = {"ours": tflop / bench(ours)}
        for name, backend in backends.items():
            try:
                with sdpa_kernel(backend):
                    times[name] = tflop / bench(lambda: sdpa(tq, tk, tv, is_causal=causal))
            except Exception as exc:  # a backend may refuse a shape
                times[name] = type(exc).__name__
        return times

    for dtype_name, tdtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        for bh in (16, 32):
            for head_dim in (64, 128):
                for causal in (False, True):
                    for n in (1024, 2048, 4096, 8192, 16384):
                        rows.append({"dtype": dtype_name, "bh": bh, "n": n, "head_dim": head_dim,
                                     "causal": causal,
                                     **time_case(tdtype, bh, head_dim, causal, n)})
    return rows


def run(xp, dry_run):
    t0 = time.perf_counter()
    report = {"environment": environment(xp), "build": build_variants(xp)}
    report["correctness"] = check_correctness(xp, dry_run)
    report["gpu_tests"] = run_gpu_tests(dry_run)
    report["timing"] = time_against_sdpa(dry_run)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    return report


def print_report(report):
    for row in report["build"]:
        extra = "" if "num_regs" not in row else (
            f" regs {row['num_regs']}, local {row['local_size_bytes']} B, {row['seconds']} s")
        print(f"built {row['kind']:<5} {row['options']}{extra}")
    bad = [r for r in report["correctness"] if not r["ok"]]
    print(f"flash attention correctness: {len(report['correctness']) - len(bad)}/"
          f"{len(report['correctness'])} cases within budget")
    for r in bad:
        print(f"  FAIL {r}")
    tests = report["gpu_tests"]
    print(f"gpu tests: rc {tests['returncode']}, {tests['summary']} ({tests['seconds']} s)")
    names = ["ours", "sdpa_flash", "sdpa_cudnn", "sdpa_efficient"]
    print(f"{'dtype':<5} {'BH':>3} {'N':>6} {'D':>4} {'causal':>6} "
          + " ".join(f"{n:>14}" for n in names) + "  ours/flash")
    for row in report["timing"]:
        cells = [row.get(n) for n in names]
        text = [f"{c:14.1f}" if isinstance(c, float) else f"{str(c or '-'):>14}" for c in cells]
        flash = row.get("sdpa_flash")
        ratio = row["ours"] / flash if isinstance(flash, float) else None
        print(f"{row['dtype']:<5} {row['bh']:>3} {row['n']:>6} {row['head_dim']:>4} "
              f"{str(row['causal']):>6} " + " ".join(text)
              + (f"  {ratio:10.2f}" if ratio is not None else ""))
    return not bad and (tests["returncode"] in (0, 5))
