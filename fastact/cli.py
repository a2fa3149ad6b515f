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
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        print(f"{key:18s} {value}")
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
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
