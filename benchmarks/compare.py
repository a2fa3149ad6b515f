"""Compare the last two saved benchmark runs and flag rows more than 10% slower.

    python benchmarks/compare.py [DIR] [--threshold 0.10]

Rows are matched by pytest-benchmark's full name; the medians are compared. Exits 1 when a row
regressed by more than the threshold, so it can gate a change.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import latest  # noqa: E402


def medians(path: Path) -> dict:
    data = json.loads(path.read_text())
    return {b["fullname"]: b["stats"]["median"] for b in data["benchmarks"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--threshold", type=float, default=0.10)
    args = ap.parse_args(argv)
    old_path, new_path = latest(args.dir, 2)
    old, new = medians(old_path), medians(new_path)
    common = sorted(set(old) & set(new))
    print(f"old: {old_path}\nnew: {new_path}\n{len(common)} rows in both runs")
    ratios = sorted(((new[k] / old[k], k) for k in common), reverse=True)
    slower = [(r, k) for r, k in ratios if r > 1 + args.threshold]
    faster = [(r, k) for r, k in ratios if r < 1 / (1 + args.threshold)]
    for title, rows in ((f"SLOWER by more than {args.threshold:.0%}", slower),
                        (f"faster by more than {args.threshold:.0%}", faster[::-1])):
        print(f"\n{title}: {len(rows)}")
        for r, k in rows:
            print(f"  {r:6.2f}x  {k.split('::')[-1]}  ({old[k] * 1e3:.3f} ms -> "
                  f"{new[k] * 1e3:.3f} ms)")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
