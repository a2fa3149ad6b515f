"""Compile every generated CUDA kernel to PTX, without a GPU: proof that the kernels build for
a real device (the simulator runs them as CPU code and cannot show that).

    .venv/bin/pip install "numba-cuda[cu12]"      # NVVM (libnvvm) from the CUDA toolkit wheels
    .venv/bin/python tools/check_ptx.py [NAME ...] [--cc 8.0]

Every kernel of fastact/backends/_cuda_kernels.py, for float32 and float64 (float16 for the
``_h`` forms), is compiled for compute capability ``--cc``; a kernel fails if it does not compile
or if its PTX calls a function (the scalar kernels must inline, as on the CPU). numba-cuda asks
the current device for its compute capability while typing device functions; with no driver
that query is answered with ``--cc``. Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--cc", default="8.0")
    args = ap.parse_args(argv)
    cc = tuple(int(p) for p in args.cc.split("."))

    import numba.cuda.dispatcher as dispatcher
    from numba import cuda, types

    class _Device:
        compute_capability = cc

    dispatcher.get_current_device = lambda: _Device()  # no driver needed to type device calls

    from fastact.kernels import register_cuda

    from fastact.backends import _cuda_kernels as CK

    register_cuda()
    names = args.names or sorted(n for n in dir(CK) if hasattr(getattr(CK, n), "py_func"))
    failures = 0
    t0 = time.perf_counter()
    for name in names:
        fn = getattr(CK, name).py_func
        for dt in (types.float16,) if name.endswith("_h") else (types.float32, types.float64):
            compute = types.float32 if dt == types.float16 else dt
            sig = []
            for p in inspect.signature(fn).parameters:
                if p in ("x", "g", "out"):
                    sig.append(types.Array(dt, 1, "C"))
                elif p in ("w", "acc"):
                    sig.append(types.Array(compute, 1, "C"))
                elif p in ("inner", "offset"):
                    sig.append(types.int64)
                else:
                    sig.append(compute)
            try:
                ptx, _ = cuda.compile_ptx(fn, tuple(sig), cc=cc)
            except Exception as e:  # noqa: BLE001 - report every failure, then exit 1
                failures += 1
                print(f"{name} {dt}: FAILED {str(e).splitlines()[0][:300]}")
                continue
            calls = [line.strip() for line in ptx.splitlines() if line.strip().startswith("call")]
            if calls:
                failures += 1
                print(f"{name} {dt}: calls {calls[:3]}")
    print(f"{len(names)} kernels compiled to PTX for sm_{cc[0]}{cc[1]}: {failures} failures "
          f"({time.perf_counter() - t0:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
