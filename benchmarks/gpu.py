"""The cuda backend on a GPU: bandwidth per activation against a device copy, host streaming
against the pure transfers.

    .venv/bin/python benchmarks/gpu.py [--n 1e9] [--host-n 2.7e8] [--reps 10]
                                       [--only NAME ...] [--markdown FILE]

Device rows: ``f(x, out=y)`` on ``n`` device-resident float32 elements (bytes moved: read x,
write y), against a device-to-device copy of the same bytes in the same run; the goal is relu at
>= 85% of the copy's bandwidth and every activation at >= 70%. Backward rows (``--grad``): read
grad_output and x, write grad_input. Host rows: ``f(x, out=y, backend="cuda")`` on ``host-n``
float32 host elements, against the pure transfers of the same bytes (pinned host -> device and
device -> host, each timed alone): the goal is >= 80% of the transfer-bound time, taken as the
larger of the two (a GPU with two copy engines overlaps them; the sum is printed too).
Times are medians of ``reps`` calls, each followed by a synchronize. Needs a GPU (on Numba's
CUDA simulator it runs, slowly, and its figures mean nothing: tests use it with tiny sizes).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numba import cuda  # noqa: E402

import fastact  # noqa: E402
from fastact.backends import cuda as backend  # noqa: E402
from tests.reference import first_cases  # noqa: E402


def median_time(fn, reps, sync):
    fn()
    sync()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


@cuda.jit
def _fill(x):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        h = (i * 2654435761) % 16777216
        x[i] = np.float32(h) * np.float32(1 / 1048576) - np.float32(8)


def fill(n):
    """n float32 values in [-8, 8) generated on the device (no 4 GB host upload)."""
    x = cuda.device_array(n, np.float32)
    blocks, threads = backend.launch_config(n)
    _fill[blocks, threads](x)
    cuda.synchronize()
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e9)
    ap.add_argument("--host-n", type=float, default=2 ** 28)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--grad", action="store_true", help="also time the backward kernels")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    ok, why = backend.usable()
    if not ok:
        sys.exit(f"no usable GPU: {why}")
    n, hn = int(args.n), int(min(args.host_n, args.n))
    sync = cuda.synchronize
    calls = first_cases()  # variant -> (activation, the first parameters it is tested with)
    variants = [v for v in calls if args.only is None or v in args.only]
    x = fill(n)
    y = cuda.device_array(n, np.float32)
    g = fill(n)
    t_copy = median_time(lambda: y.copy_to_device(x), args.reps, sync)
    copy_gbs = 2 * n * 4 / t_copy / 1e9
    lines = [
        f"GPU: {why}; fastact {fastact.__version__}; median of {args.reps} calls.",
        "",
        f"Device-resident float32, N={n:.3g}: device-to-device copy {t_copy * 1e3:.3f} ms = "
        f"{copy_gbs:.1f} GB/s (read + write).",
        "",
        "| activation | forward | GB/s | % of copy |" + (" backward | GB/s | % of copy |"
                                                        if args.grad else ""),
        "|---|---:|---:|---:|" + ("---:|---:|---:|" if args.grad else ""),
    ]
    for v in variants:
        name, p = calls[v]
        f = getattr(fastact, name)
        t = median_time(lambda f=f, p=p: f(x, **p, out=y), args.reps, sync)
        gbs = 2 * n * 4 / t / 1e9
        row = f"| {v} | {t * 1e3:.3f} ms | {gbs:.1f} | {100 * gbs / copy_gbs:.0f}% |"
        if args.grad:
            fg = getattr(fastact, f"{name}_grad")
            tb = median_time(lambda fg=fg, p=p: fg(g, x, **p, out=y), args.reps, sync)
            gb = 3 * n * 4 / tb / 1e9
            row += f" {tb * 1e3:.3f} ms | {gb:.1f} | {100 * gb / copy_gbs:.0f}% |"
        lines.append(row)
        print(row, flush=True)

    # host streaming against the pure transfers of the same bytes
    hx = (np.random.default_rng(0).standard_normal(hn) * 3).astype(np.float32)
    hy = np.empty_like(hx)
    pinned = cuda.pinned_array(hn, np.float32)
    pinned[:] = hx
    dev = cuda.device_array(hn, np.float32)
    t_h2d = median_time(lambda: dev.copy_to_device(pinned), args.reps, sync)
    t_d2h = median_time(lambda: dev.copy_to_host(pinned), args.reps, sync)
    bound = max(t_h2d, t_d2h)
    lines += [
        "",
        f"Host float32, N={hn:.3g} ({hn * 4 / 2**30:.2f} GiB): pinned host->device "
        f"{t_h2d * 1e3:.2f} ms ({hn * 4 / t_h2d / 1e9:.1f} GB/s), device->host {t_d2h * 1e3:.2f} "
        f"ms ({hn * 4 / t_d2h / 1e9:.1f} GB/s); transfer-bound time {bound * 1e3:.2f} ms "
        f"(both overlapped; sequential: {(t_h2d + t_d2h) * 1e3:.2f} ms).",
        "",
        "| activation | backend=\"cuda\" on host data | % of transfer-bound |",
        "|---|---:|---:|",
    ]
    for v in [v for v in ("relu", "gelu") if v in variants] or variants[:1]:
        f = getattr(fastact, v)
        t = median_time(lambda f=f: f(hx, out=hy, backend="cuda"), max(1, args.reps // 2),
                        sync)
        row = f"| {v} | {t * 1e3:.2f} ms | {100 * bound / t:.0f}% |"
        lines.append(row)
        print(row, flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
