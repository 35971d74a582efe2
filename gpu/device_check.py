"""`python -m gpu.device_check --out DIR [--dry-run]`: every GPU kernel against its NumPy twin,
timed, in one short run (the device machine is lent for minutes).

Sections: environment; mixed precision (casts over all 65,536 fp16/bf16 patterns and random
float32 bits, unscale_and_check_ bitwise against NumPy, its throughput); flash attention (every
variant built, checked on tail shapes against float64 within the 2x same-precision budget with
poisoned outputs, the `gpu`-marked tests, TFLOP/s against torch SDPA's flash / cuDNN / efficient
backends: gpu/_attention_check.py). --dry-run runs the same steps on NumPy arrays at small sizes,
so CI exercises the script without a GPU. Results: DIR/device_check.json and tables, the
attention timings last.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

from . import _attention_check
from . import mixed_precision as mp
from ._backend import gpu_available


def _environment(xp):
    env = {"python": sys.version.split()[0], "platform": platform.platform(),
           "numpy": np.__version__, "backend": xp.__name__}
    if xp is not np:
        env["cupy"] = xp.__version__
        props = xp.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        env["device"] = name.decode() if isinstance(name, bytes) else name
        env["sm_count"] = props["multiProcessorCount"]
    return env


def _to_host(a):
    return a.get() if hasattr(a, "get") else a


def _check_casts(xp, n_random):
    """Bitwise agreement of the casts on xp with NumPy's results."""
    out = {}
    all16 = np.arange(65536, dtype=np.uint16)
    sources = {
        "fp16 patterns": all16.view(np.float16).astype(np.float32),
        "bf16 patterns": mp.bf16_bits_to_fp32(all16),
        "random float32 bits": np.random.default_rng(0).integers(
            0, 2**32, size=n_random, dtype=np.uint64).astype(np.uint32).view(np.float32),
    }
    for name, x in sources.items():
        for cast_name, cast in (("fp16", mp.to_fp16), ("bf16", mp.to_bf16)):
            expected = cast(x).view(np.uint16)
            got = _to_host(cast(xp.asarray(x))).view(np.uint16)
            nan = np.isnan(x)
            mismatches = int(np.sum((got != expected) & ~nan))
            out[f"{cast_name} cast, {name}"] = {"n": int(x.size), "mismatches": mismatches}
    return out


def _check_unscale(xp, n):
    """unscale_and_check_ on xp against NumPy, bitwise, and its throughput."""
    rng = np.random.default_rng(1)
    g = (rng.standard_normal(n) * 1e3).astype(np.float32)
    results = {}
    for label, poison in (("finite", None), ("one NaN", n // 3)):
        host = g.copy()
        if poison is not None:
            host[poison] = np.nan
        dev = xp.asarray(host)
        found_host = mp.unscale_and_check_([host], 2.0**-7)
        found_dev = mp.unscale_and_check_([dev], 2.0**-7)
        same = np.array_equal(_to_host(dev).view(np.uint32), host.view(np.uint32))
        results[label] = {"found_inf": [found_dev, found_host], "bitwise_equal": bool(same)}
    dev = xp.asarray(g)
    mp.unscale_and_check_([dev], 1.0 + 2**-10)  # warm-up (kernel compile)
    reps = 20
    if xp is not np:
        xp.cuda.Stream.null.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        mp.unscale_and_check_([dev], 1.0 + 2**-10)
    if xp is not np:
        xp.cuda.Stream.null.synchronize()
    seconds = (time.perf_counter() - t0) / reps
    results["throughput_GBps"] = round(2 * g.nbytes / seconds / 1e9, 1)  # read + write
    results["n"] = n
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m gpu.device_check", description=__doc__)
    parser.add_argument("--out", default="device_check_out")
    parser.add_argument("--dry-run", action="store_true",
                        help="NumPy arrays, small sizes: checks the script itself (CI)")
    args = parser.parse_args(argv)
    if args.dry_run:
        xp = np
    elif gpu_available():
        import cupy as xp
    else:
        print("no usable GPU (CuPy missing or no device); use --dry-run", file=sys.stderr)
        return 2
    n_random = 100_000 if args.dry_run else 20_000_000
    n_unscale = 100_000 if args.dry_run else 100_000_000
    t0 = time.perf_counter()
    report = {"environment": _environment(xp), "dry_run": args.dry_run}
    report["mixed_precision"] = {"casts": _check_casts(xp, n_random),
                                 "unscale_and_check_": _check_unscale(xp, n_unscale)}
    report["flash_attention"] = _attention_check.run(xp, args.dry_run)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "device_check.json"), "w") as f:
        json.dump(report, f, indent=2)

    casts = report["mixed_precision"]["casts"]
    unscale = report["mixed_precision"]["unscale_and_check_"]
    print(f"backend {xp.__name__}, {report['seconds']} s")
    print(f"{'check':<45} {'n':>12} {'mismatches':>11}")
    for name, row in casts.items():
        print(f"{name:<45} {row['n']:>12} {row['mismatches']:>11}")
    for label in ("finite", "one NaN"):
        print(f"unscale_and_check_ ({label}): found_inf device/numpy "
              f"{unscale[label]['found_inf']}, bitwise equal {unscale[label]['bitwise_equal']}")
    print(f"unscale_and_check_ throughput: {unscale['throughput_GBps']} GB/s on {unscale['n']} "
          "float32")
    attention_ok = _attention_check.print_report(report["flash_attention"])
    failed = any(row["mismatches"] for row in casts.values()) or not all(
        unscale[label]["bitwise_equal"] for label in ("finite", "one NaN")) or not attention_ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
