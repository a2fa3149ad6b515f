"""Regenerate the README's activation analysis table (and, with --plots, the README's figures).

    .venv/bin/python tools/gen_analysis.py          # rewrite the table (make gen)
    .venv/bin/python tools/gen_analysis.py --check  # exit 1 if the README table is out of date
    .venv/bin/python tools/gen_analysis.py --plots  # also redraw docs/activations*.png

The table is ``fastact.analyze(name)`` on the default grid (-5..5, 10001 points) for every
activation in the catalog, a parameter without a default at ``gen_docs.PLOT_REQUIRED`` (as on the
activation pages' plots); a test runs ``--check``. The PNGs are redrawn only on request: their
bytes change with matplotlib's version, so they are not part of ``make gen`` nor checked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
README = ROOT / "README.md"
START, END = "<!-- analysis table: tools/gen_analysis.py -->", "<!-- end analysis table -->"


def table() -> str:
    from gen_docs import plot_params

    import fastact

    lines = [
        "| activation | Lipschitz (max \\|f′\\|) | vanishing (\\|f′\\| < 1e-3) | monotonic | "
        "zero-centred | output range on [-5, 5] |",
        "|---|---:|---:|---|---|---|",
    ]
    for name, spec in fastact.ACTIVATIONS.items():
        if spec.reduction:  # axis-wise: no curve of one element to analyse
            continue
        params = plot_params(spec)
        a = fastact.analyze(name, **params)
        lo, hi = a.output_range
        label = ", ".join(f"{k} {v}" for k, v in params.items())
        lines.append(f"| {name}{f' ({label})' if label else ''} | "
                     f"{a.lipschitz:.4g} | {a.vanishing_fraction:.1%} | "
                     f"{'yes' if a.monotonic else 'no'} | {'yes' if a.zero_centered else 'no'} | "
                     f"[{lo:.3g}, {hi:.3g}] |")
    return "\n".join(lines)


def readme_with_table(text: str) -> str:
    block = f"{START}\n{table()}\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return pattern.sub(lambda _: block, text)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = README.read_text()
    new = readme_with_table(text)
    if "--check" in argv:
        if new != text:
            print("README.md's analysis table is out of date: run python tools/gen_analysis.py")
            return 1
        return 0
    if new != text:
        README.write_text(new)
        print("wrote README.md's analysis table")
    if "--plots" not in argv:
        return 0
    import fastact

    fastact.plot(["relu", "leaky_relu", "elu", "gelu", "silu", "mish"], derivative=True,
                 path=ROOT / "docs" / "activations.png")
    fastact.plot(["sigmoid", "tanh", "softplus", "hardswish"], derivative=True,
                 path=ROOT / "docs" / "activations-smooth.png")
    print("wrote docs/activations.png, docs/activations-smooth.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
