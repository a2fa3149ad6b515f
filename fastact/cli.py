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
            value = "; ".join(f"{fam}: " + ", ".join(f"{dt} >= {n}" for dt, n in d.items())
                              for fam, d in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:18s} {value}")
    return 0


def _tune(args) -> int:
    import fastact

    profile = fastact.tune(path=args.output, progress=not args.quiet)
    print(f"wrote {profile['path']} in {profile['seconds']} s")
    for family, by_dtype in profile["thresholds"].items():
        for dtype, n in by_dtype.items():
            print(f"  {family:16s} {dtype}: parallel from {n} elements")
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
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
