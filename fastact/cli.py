"""The ``fastact`` command line."""

from __future__ import annotations

import argparse
import sys


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def _info(args) -> int:
    import fastact

    data = fastact.info()
    if args.json:
        import json

        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        if key.startswith("memory_"):
            value = _fmt_bytes(value)
        elif key == "caches":
            value = ", ".join(f"{k} {_fmt_bytes(v)}" for k, v in value.items()) or "unknown"
        elif key == "thresholds":
            value = _fmt_thresholds(value)
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:18s} {value}")
    return 0


def _fmt_thresholds(table: dict) -> str:
    """The thresholds in force in words: per family, the parallel ones (in place where the
    profile has its own), then a tuned profile's GPU and streaming-store ones."""
    from fastact.profiles import FAMILIES

    def sizes(by_dtype):
        return ", ".join(f"{dt} never" if n is None else f"{dt} >= {n}"
                         for dt, n in by_dtype.items())

    parts = [f"{family}: {sizes(table[family])}" for family in FAMILIES]
    parts += [f"{family} in place: {sizes(table['inplace'][family])}"
              for family in FAMILIES if "inplace" in table]
    parts += [f"{family} through the GPU: {sizes(table['cuda'][family])}"
              for family in FAMILIES if table.get("cuda")]
    if "streaming" in table:
        streaming = table["streaming"]
        parts.append("streaming stores: " + ("never" if streaming is None
                                             else f">= {streaming} bytes"))
    return "; ".join(parts)


def _tune(args) -> int:
    import fastact
    from fastact.profiles import FAMILIES

    profile = fastact.tune(path=args.output, progress=not args.quiet)
    print(f"wrote {profile['path']} in {profile['seconds']} s")
    table = profile["thresholds"]
    for family in FAMILIES:
        for dtype, n in table[family].items():
            print(f"  {family:16s} {dtype}: parallel from {n} elements, "
                  f"in place from {table['inplace'][family][dtype]}")
    for family, by_dtype in (table.get("cuda") or {}).items():
        for dtype, n in by_dtype.items():
            print(f"  {family:16s} {dtype}: host arrays through the GPU from "
                  f"{'never' if n is None else f'{n} elements'}")
    streaming = table.get("streaming")
    print("  streaming stores into out=: " + ("never (they do not win here)" if streaming is None
                                              else f"from {streaming} bytes"))
    return 0


def _warmup(args) -> int:
    import fastact

    def progress(done, total, name):
        if not args.quiet:
            bar = "#" * (30 * done // total)
            sys.stderr.write(f"\rfastact warmup [{bar:<30}] {done}/{total} {name:24s}")
            sys.stderr.flush()

    n = fastact.warmup(progress=progress)
    if not args.quiet:
        sys.stderr.write("\n")
    print(f"compiled or loaded {n} kernels")
    return 0


def _names_ok(names) -> bool:
    from .registry import ACTIVATIONS

    bad = [n for n in names if n not in ACTIVATIONS]
    if bad:
        sys.stderr.write(f"fastact: unknown activation {bad[0]!r}; known: "
                         f"{', '.join(ACTIVATIONS)}\n")
        return False
    return True


def _parse_params(items):
    params = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param expects k=v, got {item!r}")
        try:
            params[key] = float(value)
        except ValueError:
            params[key] = value  # gelu's approximate="tanh"
    return params


def _analyze(args) -> int:
    import dataclasses
    import json

    import fastact

    if not _names_ok([args.name]):
        return 2
    try:
        params = _parse_params(args.param)
        result = fastact.analyze(args.name, lo=args.lo, hi=args.hi, n=args.n, **params)
    except (ValueError, TypeError) as e:
        sys.stderr.write(f"fastact analyze: {e}\n")
        return 2
    data = dataclasses.asdict(result)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for key, value in data.items():
        print(f"{key:20s} {value}")
    return 0


def _plot(args) -> int:
    import fastact

    if not _names_ok(args.names):
        return 2
    try:
        fastact.plot(args.names, derivative=not args.no_derivative, lo=args.lo, hi=args.hi,
                     path=args.output)
    except ImportError as e:
        sys.stderr.write(f"fastact plot: {e}\n")
        return 1
    except ValueError as e:  # an axis-wise activation has no curve of one element
        sys.stderr.write(f"fastact plot: {e}\n")
        return 2
    print(f"wrote {args.output}")
    return 0


def _bench(args) -> int:
    from . import quickbench

    sizes = tuple(int(float(s)) for s in args.sizes.split(","))
    quickbench.run(sizes=sizes, budget=args.budget)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fastact",
        description="Neural-network activation functions at hardware speed from NumPy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_info = sub.add_parser("info", help="show the machine and configuration fastact runs with")
    p_info.add_argument("--json", action="store_true", help="print JSON")
    p_info.set_defaults(func=_info)
    p_tune = sub.add_parser(
        "tune", help="measure the serial/parallel crossovers here and save them (< 60 s)",
        description="Time the serial and parallel backends over sizes 2**10..2**22 and write the "
                    "thresholds as a JSON profile that later calls use.")
    p_tune.add_argument("-o", "--output", help="profile path (default: FASTACT_PROFILE or the "
                        "user cache directory)")
    p_tune.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_tune.set_defaults(func=_tune)
    p_warm = sub.add_parser("warmup", help="compile (or load from cache) every kernel now")
    p_warm.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p_warm.set_defaults(func=_warmup)
    p_bench = sub.add_parser(
        "bench", help="quick timing table: fastact against NumPy and PyTorch (if installed)",
        description="Time relu, sigmoid, tanh and silu (forward and backward, float32) in this "
                    "process; the full suite with the report is `make bench` in a checkout.")
    p_bench.add_argument("--sizes", default="1e3,1e6,1e7", help="comma-separated sizes")
    p_bench.add_argument("--budget", type=float, default=0.2,
                         help="seconds of timing per case (default 0.2)")
    p_bench.set_defaults(func=_bench)
    p_plot = sub.add_parser("plot", help="plot activations and their derivatives to a file")
    p_plot.add_argument("names", nargs="+", metavar="NAME", help="activation names")
    p_plot.add_argument("-o", "--output", required=True, help="image file (PNG, SVG, PDF...)")
    p_plot.add_argument("--no-derivative", action="store_true", help="functions only")
    p_plot.add_argument("--lo", type=float, default=-5.0)
    p_plot.add_argument("--hi", type=float, default=5.0)
    p_plot.set_defaults(func=_plot)
    p_an = sub.add_parser("analyze", help="Lipschitz constant, vanishing/exploding shares...")
    p_an.add_argument("name", metavar="NAME", help="activation name")
    p_an.add_argument("--param", action="append", metavar="K=V",
                      help="activation parameter, e.g. --param negative_slope=0.2")
    p_an.add_argument("--lo", type=float, default=-5.0)
    p_an.add_argument("--hi", type=float, default=5.0)
    p_an.add_argument("--n", type=int, default=10001, help="grid points")
    p_an.add_argument("--json", action="store_true", help="print JSON")
    p_an.set_defaults(func=_analyze)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
