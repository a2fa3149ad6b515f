"""Turn a pytest-benchmark JSON from `make bench` into a markdown report (and a PNG).

    python benchmarks/report.py [RESULTS.json | --latest DIR] [--md OUT.md] [--png OUT.png]

Per row: the median time, GB/s (bytes read + written), % of the streaming ceiling (the best copy
of the same bytes at the same N), the ratio to the NumPy formula, to torch and to the best peer
(fastest of numpy, torch, JAX, numexpr on that row; < 1 means fastact is faster), and whether each
DESIGN.md target is met. With matplotlib installed, a PNG of throughput against N.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

PEERS = ("numpy", "torch", "jax", "numexpr")
SHORT = {"forward": "fwd", "backward": "bwd"}
#: DESIGN.md's performance targets: (description, ratio goal)
GOALS = {
    "relu_out": ("relu, N=1e8, `out=` vs `torch.clamp_min(x, 0, out=o)`", 1.0),
    "relu_inplace": ("relu in-place, N=1e8 vs `torch.relu_(x)`", 1.0),
    "relu_alloc": ("relu allocating, N=1e8 vs `torch.relu(x)`", 0.6),
    "others": ("every other activation, fwd and bwd, N=1e6 and 1e8 vs best of torch/JAX", 0.8),
    "small": ("any activation, N=1e3 vs `np.maximum(x, 0)`", 1.5),
    "ceiling": ("relu `out=` at N=1e8, share of the streaming ceiling", 0.98),
    "import": ("`import fastact` (s)", 0.5),
    "first_call": ("first call in a new process, warm cache (s)", 0.1),
}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def latest(directory: Path, k: int = 1) -> list[Path]:
    files = sorted(directory.rglob("*.json"), key=lambda p: p.stat().st_mtime)
    if len(files) < k:
        raise SystemExit(f"need {k} result file(s) under {directory}, found {len(files)}")
    return files[-k:]


#: (row key, impl) of the interleaved times that kept a large spread (marked * in the tables)
noisy: set = set()


def index(data: dict):
    """{(variant, direction, n, dtype, style): {impl: median seconds}}, copies, startup info."""
    rows, copies, startup, nbytes = defaultdict(dict), {}, {}, {}
    noisy.clear()
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        med = b["stats"]["median"]
        if e.get("variant") == "startup":
            startup[e["impl"]] = {**e, "median": med}
        elif e.get("variant") == "copy":
            key = (e["n"], e["dtype"])
            copies[key] = max(copies.get(key, 0.0), e["bytes"] / med)
        elif e.get("variant") in ("chunked", "integration", "gated", "axiswise", "bf16",
                                  "bias"):
            continue  # their own tables: chunked_rows, integration_rows, gated_rows, axis_rows,
            # bf16_rows, bias_rows
        elif "interleaved" in e:
            key = (e["variant"], e["direction"], e["n"], e["dtype"], e["style"])
            for impl, st in e["interleaved"].items():
                if impl.startswith("ceiling"):  # the row's ceiling: the fastest of its forms
                    impl = "ceiling"
                    if rows[key].get(impl, math.inf) <= st["median"]:
                        continue
                rows[key][impl] = st["median"]
                if st.get("noisy"):
                    noisy.add((key, impl))
            nbytes[key] = e["bytes"]
        elif "impl" in e:
            key = (e["variant"], e["direction"], e["n"], e["dtype"], e["style"])
            rows[key][e["impl"]] = med
            nbytes[key] = e["bytes"]
    return rows, copies, startup, nbytes


def chunked_rows(data: dict) -> dict:
    """{n: {impl: median seconds}} for benchmarks/test_chunked.py."""
    rows = defaultdict(dict)
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        if e.get("variant") == "chunked":
            rows[e["n"]][e["impl"]] = b["stats"]["median"]
    return rows


def integration_rows(data: dict) -> dict:
    """{label: {impl: median seconds}} for benchmarks/test_integrations.py (in run order)."""
    rows = {}
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        if e.get("variant") == "integration":
            rows.setdefault(e["label"], {})[e["impl"]] = b["stats"]["median"]
    return rows


def gated_rows(data: dict) -> dict:
    """{(shape label, activation, form, direction): {impl: median seconds}, with "bytes"} for
    benchmarks/test_gated.py; the no-math ceiling is stored under every activation of its row."""
    rows, ceilings, nbytes = defaultdict(dict), {}, {}
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        if e.get("variant") != "gated":
            continue
        key = (e["label"], e["form"], e["direction"])
        if "interleaved" in e:  # a row timed interleaved with its own ceiling
            rows[(key[0], e["activation"], *key[1:])] = {
                k: v["median"] for k, v in e["interleaved"].items()} | {"bytes": e["bytes"]}
            continue
        if e["impl"] == "ceiling":
            ceilings[key] = b["stats"]["median"]
        else:
            rows[(*key[:1], e["activation"], *key[1:])][e["impl"]] = b["stats"]["median"]
            nbytes[key] = e["bytes"]
    for (label, _, form, direction), impls in rows.items():
        key = (label, form, direction)
        if key in ceilings and "ceiling" not in impls:
            impls["ceiling"] = ceilings[key]
        impls.setdefault("bytes", nbytes.get(key))
    return rows


#: the gated kind's targets (DESIGN.md, issue 22): ratio to the torch composite, to JAX, and the
#: share of the streaming ceiling (a loop moving the same bytes without math)
GATED_GOALS = {"torch": 0.6, "jax": 0.8, "ceiling": 1.1}


def gated_section(data: dict) -> list[str]:
    rows = gated_rows(data)
    if not rows:
        return []
    lines = ["", "## Gated activations (float32, all cores)", "",
             "Split: x's two halves along the last axis; pair: gate and up arrays. torch: the "
             "composite (`F.silu(a) * b`; `F.glu(x)` for glu's split form) and its autograd "
             "backward; JAX: `jax.jit` of the same and of its vjp. Ceiling: a loop that moves the "
             "same bytes into a preallocated output with no math (fastact and the peers allocate "
             "their results).", "",
             "| shape | activation | form | dir | fastact | torch | JAX | vs torch | vs JAX | "
             "GB/s | / ceiling |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    met = {k: [0, 0] for k in GATED_GOALS}
    for (label, name, form, direction), impls in sorted(rows.items()):
        f = impls.get("fastact:auto")
        if f is None:
            continue
        t, j, c = impls.get("torch"), impls.get("jax"), impls.get("ceiling")
        for k, peer in (("torch", t), ("jax", j), ("ceiling", c)):
            if peer:
                met[k][1] += 1
                met[k][0] += f / peer <= GATED_GOALS[k]
        lines.append(
            f"| {label} | {name} | {form} | {SHORT[direction]} | {fmt_time(f)} | {fmt_time(t)} "
            f"| {fmt_time(j)} | {fmt_ratio(f / t if t else None)} | "
            f"{fmt_ratio(f / j if j else None)} | {impls['bytes'] / f / 1e9:.1f} | "
            f"{fmt_ratio(f / c if c else None)} |")
    lines += ["", "Rows meeting the targets: "
              + "; ".join(f"vs {k} ≤ {g}×: {met[k][0]}/{met[k][1]}"
                          for k, g in GATED_GOALS.items())]
    return lines


def variant_rows(data: dict, variant: str, fields: tuple) -> dict:
    """{(the rows' ``fields`` of extra_info): {impl: median seconds}} for the benchmarks of
    ``variant`` (each its own table)."""
    rows = defaultdict(dict)
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        if e.get("variant") != variant:
            continue
        key = tuple(e[f] for f in fields)
        if "interleaved" in e:  # a row timed interleaved: every implementation's median
            rows[key].update({k: v["median"] for k, v in e["interleaved"].items()})
        else:
            rows[key][e["impl"]] = b["stats"]["median"]
    return rows


def axis_rows(data: dict) -> dict:
    """{(shape label, dtype, activation, direction): {impl: median seconds}} for
    benchmarks/test_axiswise.py."""
    return variant_rows(data, "axiswise", ("label", "dtype", "activation", "direction"))


#: the axis-wise kind's target (DESIGN.md, issue 23): ratio to the fastest of torch, JAX, scipy
AXIS_GOAL = 0.8


def axis_section(data: dict) -> list[str]:
    rows = axis_rows(data)
    if not rows:
        return []
    lines = ["", "## Axis-wise activations (all cores)", "",
             "torch: `torch.softmax(x, dim)` etc., backward ATen's `_softmax_backward_data` / "
             "`_log_softmax_backward_data` from the saved output (logsumexp: autograd); JAX: "
             "`jax.jit` of `jax.nn.softmax(x, axis)` etc. and of its vjp (which recomputes the "
             "forward); scipy: `scipy.special.softmax(x, axis)` etc. (forward only). fastact's "
             "backward: `<name>_grad(g, result=y)`. Every implementation allocates its result.",
             "", "| shape | dtype | activation | dir | fastact | torch | JAX | scipy | "
             "vs best peer |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    met = [0, 0]
    for (label, dtype, name, direction), impls in sorted(rows.items()):
        f = impls.get("fastact:auto")
        if f is None:
            continue
        peers = {k: impls[k] for k in ("torch", "jax", "scipy") if k in impls}
        best = min(peers, key=peers.get) if peers else None
        ratio = f / peers[best] if best else None
        if ratio is not None:
            met[1] += 1
            met[0] += ratio <= AXIS_GOAL
        lines.append(
            f"| {label} | {dtype} | {name} | {SHORT[direction]} | {fmt_time(f)} | "
            + " | ".join(fmt_time(impls.get(k)) for k in ("torch", "jax", "scipy"))
            + f" | {fmt_ratio(ratio)} {best or ''} |")
    lines += ["", f"Rows within {AXIS_GOAL}× of the fastest peer: {met[0]}/{met[1]}"]
    return lines


def bf16_rows(data: dict) -> dict:
    """{(kind, activation, label, direction): {impl: median seconds}} for
    benchmarks/test_bf16.py."""
    return variant_rows(data, "bf16", ("kind", "activation", "label", "direction"))


#: bfloat16's targets (DESIGN.md, issue 24): ratio to torch's bfloat16 on every row, and to
#: fastact's own float32 on the memory-bound rows (the piecewise-linear family) at 1e8
BF16_GOALS = {"torch": 0.8, "own float32": 0.6}


def bf16_section(data: dict) -> list[str]:
    from fastact.registry import ACTIVATIONS, PIECEWISE_LINEAR

    rows = bf16_rows(data)
    if not rows:
        return []
    lines = ["", "## bfloat16 (all cores)", "",
             "fastact on ml_dtypes.bfloat16 arrays, on the float32 arrays of the same values, "
             "and torch on bfloat16 tensors (element-wise: the aten ops, backward from what the "
             "forward saved; gated: the composite and its autograd backward; softmax: "
             "`torch.softmax` and `_softmax_backward_data`). Every implementation allocates "
             "its result.", "",
             "| kind | activation | size | dir | fastact bf16 | fastact f32 | torch bf16 | "
             "bf16 / f32 | vs torch bf16 |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    met = {k: [0, 0] for k in BF16_GOALS}
    for (kind, name, label, direction), impls in sorted(rows.items()):
        b, f, t = (impls.get(k) for k in ("fastact:bf16", "fastact:f32", "torch:bf16"))
        if b is None:
            continue
        own = b / f if f else None
        vs = b / t if t else None
        if vs is not None:
            met["torch"][1] += 1
            met["torch"][0] += vs <= BF16_GOALS["torch"]
        bound = (kind == "elementwise" and label == "1e8"
                 and ACTIVATIONS[name].family == PIECEWISE_LINEAR)
        if bound and own is not None:
            met["own float32"][1] += 1
            met["own float32"][0] += own <= BF16_GOALS["own float32"]
        mark = " (memory)" if bound else ""
        lines.append(f"| {kind} | {name} | {label} | {SHORT[direction]} | {fmt_time(b)} | "
                     f"{fmt_time(f)} | {fmt_time(t)} | {fmt_ratio(own)}{mark} | "
                     f"{fmt_ratio(vs)} |")
    lines += ["", "Rows meeting the targets: "
              + "; ".join(f"vs {k} ≤ {g}×: {met[k][0]}/{met[k][1]}"
                          for k, g in BF16_GOALS.items())]
    return lines


def bias_rows(data: dict) -> dict:
    """{(activation, label, direction): {impl: {median, spread, noisy}}, with "bytes"} for
    benchmarks/test_bias.py (timed interleaved)."""
    rows = {}
    for b in data["benchmarks"]:
        e = b.get("extra_info", {})
        if e.get("variant") == "bias":
            rows[(e["activation"], e["label"], e["direction"])] = dict(e["interleaved"],
                                                                       bytes=e["bytes"])
    return rows


#: the fused bias's target (DESIGN.md, issue 25): ratio to torch's ``f(x + b)`` and its autograd
BIAS_GOAL = 0.6


def bias_section(data: dict) -> list[str]:
    rows = bias_rows(data)
    if not rows:
        return []
    lines = ["", "## bias= + activation (float32, all cores, timed interleaved)", "",
             "`f(x, bias=b)` and `f_grad(g, x, bias=b)` (grad_input and grad_bias) on x of a "
             "linear layer's shape, b over its last axis. Each round calls every implementation "
             "once in turn; medians, and the interquartile spread of fastact's times. unfused: "
             "`f(x + b)`; torch: `f(x + b)` and its autograd backward for x and b; JAX: `jax.jit` "
             "of the same and of its vjp. Ceiling: the bytes of the fused call moved with no "
             "math into a preallocated array, in the same rounds. A time marked * kept a large "
             "spread (benchmarks/conftest.py: NOISY) after a second set of rounds.", "",
             "| activation | shape | dir | fastact | spread | unfused | torch | JAX | vs torch | "
             "GB/s | / ceiling |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    met = [0, 0]

    def cell(impls, k):
        v = impls.get(k)
        return "—" if v is None else fmt_time(v["median"]) + ("*" if v["noisy"] else "")

    for (name, label, direction), impls in sorted(rows.items()):
        f = impls["fastact"]["median"]
        t = impls.get("torch", {}).get("median")
        c = impls.get("ceiling", {}).get("median")
        if t:
            met[1] += 1
            met[0] += f / t <= BIAS_GOAL
        lines.append(f"| {name} | {label} | {SHORT[direction]} | {cell(impls, 'fastact')} | "
                     f"{impls['fastact']['spread']:.0%} | {cell(impls, 'fastact:unfused')} | "
                     f"{cell(impls, 'torch')} | {cell(impls, 'jax')} | "
                     f"{fmt_ratio(f / t if t else None)} | {impls['bytes'] / f / 1e9:.1f} | "
                     f"{fmt_ratio(f / c if c else None)} |")
    lines += ["", f"Rows meeting the target (≤ {BIAS_GOAL}× torch): {met[0]}/{met[1]}"]
    return lines


def fmt_time(s):
    if s is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def best_peer(impls: dict, names=PEERS):
    peers = {k: v for k, v in impls.items() if k in names}
    if not peers:
        return None, None
    name = min(peers, key=peers.get)
    return name, peers[name]


def n_label(n):
    return f"1e{round(math.log10(n))}"


def targets(rows, copies, startup):
    """[(goal key, label, fastact, peer, value, goal, met)] for the DESIGN.md targets."""
    out = []

    def ratio_row(key, rowkey, peer_impl):
        r = rows.get(rowkey, {})
        f, p = r.get("fastact:auto"), r.get(peer_impl)
        if f is None or p is None:
            return
        label, goal = GOALS[key]
        out.append((key, label, fmt_time(f), f"{peer_impl} {fmt_time(p)}", f / p, goal,
                    f / p <= goal))

    ratio_row("relu_out", ("relu", "forward", 10**8, "float32", "out"), "torch")
    ratio_row("relu_inplace", ("relu", "forward", 10**8, "float32", "inplace"), "torch")
    ratio_row("relu_alloc", ("relu", "forward", 10**8, "float32", "alloc"), "torch")
    r = rows.get(("relu", "forward", 10**8, "float32", "out"), {})
    ceiling = copies.get((10**8, "float32"))
    if r.get("ceiling"):  # the row's own, timed in the same rounds
        ceiling = 2 * 4 * 10**8 / r["ceiling"]
    if r.get("fastact:auto") and ceiling:
        share = (2 * 4 * 10**8 / r["fastact:auto"]) / ceiling
        label, goal = GOALS["ceiling"]
        out.append(("ceiling", label, f"{2 * 4e8 / r['fastact:auto'] / 1e9:.1f} GB/s",
                    f"copy {ceiling / 1e9:.1f} GB/s", share, goal, share >= goal))
    others = []
    for (variant, direction, n, dtype, style), impls in rows.items():
        if variant == "relu" or dtype != "float32" or style != "alloc" or n not in (10**6, 10**8):
            continue
        name, peer = best_peer(impls, ("torch", "jax"))
        if peer and impls.get("fastact:auto"):
            others.append((impls["fastact:auto"] / peer, variant, direction, n, name))
    if others:
        label, goal = GOALS["others"]
        worst = max(others)
        met = sum(r <= goal for r, *_ in others)
        out.append(("others", label, f"{met}/{len(others)} rows met",
                    f"worst: {worst[1]} {worst[2]} N={n_label(worst[3])} vs {worst[4]}",
                    worst[0], goal, met == len(others)))
    base = rows.get(("relu", "forward", 10**3, "float32", "alloc"), {}).get("numpy")
    small = [(impls["fastact:auto"] / base, v, d) for (v, d, n, dt, st), impls in rows.items()
             if n == 10**3 and dt == "float32" and st == "alloc" and "fastact:auto" in impls]
    if base and small:
        label, goal = GOALS["small"]
        worst = max(small)
        out.append(("small", label, f"worst {worst[1]} {worst[2]}",
                    f"np.maximum {fmt_time(base)}", worst[0], goal, worst[0] <= goal))
    warm = startup.get("startup:warm")
    if warm:
        for key, value in (("import", warm["import_s"]), ("first_call", warm["first_relu_s"])):
            label, goal = GOALS[key]
            out.append((key, label, f"{value:.3f} s", "—", value, goal, value <= goal))
    return out


def markdown(data: dict, source: str) -> str:
    rows, copies, startup, nbytes = index(data)
    m = data.get("machine_info", {})
    lines = [
        "# fastact benchmark report",
        "",
        f"Source: `{source}` ({data.get('datetime', '?')}), mode **{m.get('bench_mode', '?')}**.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu_model', '?')}, {m.get('logical_cores')} logical / "
        f"{m.get('physical_cores')} physical cores, affinity {m.get('affinity')}, "
        f"{m.get('cpu_freq_mhz') or '?'} MHz; caches {m.get('caches')}",
        f"- Memory: {m.get('memory_total', 0) / 2**30:.1f} GiB total, "
        f"{m.get('memory_available', 0) / 2**30:.1f} GiB available at start",
        f"- Python {m.get('python')}, NumPy {m.get('numpy')}, Numba {m.get('numba')} "
        f"(threading layer: {m.get('numba_threading_layer')}, {m.get('numba_num_threads')} "
        f"threads), fastact {m.get('fastact')}",
        f"- Peers: torch {m.get('torch') or 'not installed'}"
        + (f" ({m.get('torch_num_threads')} threads)" if m.get("torch") else "")
        + f", JAX {m.get('jax') or 'not installed'}, numexpr {m.get('numexpr') or 'not installed'}"
        + (f" ({m.get('numexpr_num_threads')} threads)" if m.get("numexpr") else ""),
        "",
        "Times are medians; ratios are fastact's time over the peer's (below 1: fastact is "
        "faster). GB/s counts bytes read + written; the ceiling is the best of `np.copyto` and "
        "torch `copy_` over the same bytes at the same N.",
        "",
        "## DESIGN.md targets",
        "",
        "| target | fastact | peer | value | goal | met? |",
        "|---|---|---|---:|---:|---|",
    ]
    for key, label, f, p, value, goal, met in targets(rows, copies, startup):
        cmp_ = "≥" if key == "ceiling" else "≤"
        val = f"{value:.0%}" if key == "ceiling" else (
            f"{value:.3f}" if key in ("import", "first_call") else f"{value:.2f}×")
        goal_s = f"{cmp_} {goal:.0%}" if key == "ceiling" else f"{cmp_} {goal}"
        lines.append(f"| {label} | {f} | {p} | {val} | {goal_s} | {'yes' if met else '**no**'} |")
    if startup:
        lines += ["", "## Start-up (fresh process each round)", "",
                  "| cache | process | import fastact | first relu call | first gelu call |",
                  "|---|---:|---:|---:|---:|"]
        for k in sorted(startup):
            s = startup[k]
            lines.append(f"| {k.split(':')[1]} | {fmt_time(s['median'])} | "
                         f"{fmt_time(s['import_s'])} | {fmt_time(s['first_relu_s'])} | "
                         f"{fmt_time(s['first_gelu_s'])} |")
    chunked = chunked_rows(data)
    if chunked:
        lines += ["", "## `fastact.chunked` (GELU-tanh as 7 NumPy ufuncs, float32)", "",
                  "| N | whole array | chunked | ratio |", "|---|---:|---:|---:|"]
        for n in sorted(chunked):
            w, c = chunked[n].get("numpy-whole-array"), chunked[n].get("fastact.chunked")
            lines.append(f"| {n_label(n)} | {fmt_time(w)} | {fmt_time(c)} | "
                         f"{fmt_ratio(c / w if c and w else None)} |")
    integration = integration_rows(data)
    if integration:
        lines += ["", "## Integrations (each: without fastact, then with it)", "",
                  "| case | without | with fastact | ratio |", "|---|---|---|---:|"]
        for label, impls in integration.items():
            (base, tb), *rest = impls.items()
            for impl, t in rest:
                lines.append(f"| {label} | {base} {fmt_time(tb)} | {impl} {fmt_time(t)} | "
                             f"{fmt_ratio(t / tb)} |")
    lines += gated_section(data)
    lines += axis_section(data)
    lines += bf16_section(data)
    lines += bias_section(data)
    lines += ["", "## All rows", "",
              "| activation | dir | N | dtype | style | backend | median | GB/s | % ceiling | "
              "vs numpy | vs torch | vs best peer |",
              "|---|---|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    above, autos = [], []
    for key in sorted(rows, key=lambda k: (k[0], k[1], k[3], k[2], k[4])):
        variant, direction, n, dtype, style = key
        impls = rows[key]
        ceiling = copies.get((n, dtype))
        if impls.get("ceiling"):  # the row's own ceiling, timed in the same rounds
            ceiling = nbytes[key] / impls["ceiling"]
            for impl in impls:
                if impl.startswith("fastact:") and nbytes[key] / impls[impl] > 1.05 * ceiling:
                    above.append((key, impl))
        explicit = [impls[k] for k in ("fastact:cpu", "fastact:parallel") if k in impls]
        if "fastact:auto" in impls and explicit:
            autos.append((impls["fastact:auto"] / min(explicit), key))
        name, peer = best_peer(impls)
        for impl in sorted(i for i in impls if i.startswith("fastact:")):
            t = impls[impl]
            gbs = nbytes[key] / t
            lines.append(
                f"| {variant} | {SHORT[direction]} | {n_label(n)} | {dtype} | {style} | "
                f"{impl.split(':')[1]} | {fmt_time(t)}{'*' if (key, impl) in noisy else ''} | "
                f"{gbs / 1e9:.2f} | "
                f"{(f'{gbs / ceiling:.0%}' if ceiling else '—')} | "
                f"{fmt_ratio(t / impls['numpy'] if 'numpy' in impls else None)} | "
                f"{fmt_ratio(t / impls['torch'] if 'torch' in impls else None)} | "
                f"{fmt_ratio(t / peer if peer else None)}{f' ({name})' if name else ''} |"
            )
    worst = max(autos, default=None)
    lines += ["", "Each row's implementations were timed interleaved; a time marked * kept a large "
              "spread after a second set of rounds (benchmarks/conftest.py). Rows bound by memory "
              "show their own ceiling (the same bytes moved with no math, in the same style, in "
              "the same rounds); the others the best copy below.", "",
              f"Consistency: fastact rows above 105% of their row's ceiling: {len(above)}"
              + (f" ({', '.join(f'{k[0]} {k[1]} {n_label(k[2])} {k[4]} {i}' for k, i in above)})"
                 if above else "")
              + (f"; auto within 1.3× of the better of cpu and parallel: "
                 f"{sum(r <= 1.3 for r, _ in autos)}/{len(autos)} rows (worst {worst[0]:.2f}×: "
                 f"{worst[1][0]} {worst[1][1]} {n_label(worst[1][2])} {worst[1][4]})"
                 if worst else "")]
    lines += ["", "## Streaming ceiling", "", "| N | dtype | best copy GB/s |", "|---|---|---:|"]
    for (n, dtype), gbs in sorted(copies.items()):
        lines.append(f"| {n_label(n)} | {dtype} | {gbs / 1e9:.2f} |")
    return "\n".join(lines) + "\n"


COLORS = {"fastact:auto": "tab:blue", "fastact:cpu": "tab:cyan", "fastact:parallel": "tab:olive",
          "numpy": "tab:red",
          "torch": "tab:orange", "jax": "tab:green", "numexpr": "tab:purple"}
PLOTS = [("relu", "forward", "out"), ("relu", "forward", "alloc"), ("gelu", "forward", "alloc"),
         ("gelu", "backward", "alloc")]


def plot(data: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'fastact[plot]'): no PNG written")
        return False
    rows, copies, _, nbytes = index(data)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharey=True)
    axes = axes.ravel()
    handles = {}
    for ax, (variant, direction, style) in zip(axes, PLOTS, strict=True):
        series = defaultdict(list)
        for (v, d, n, dt, st), impls in rows.items():
            if (v, d, st, dt) == (variant, direction, style, "float32"):
                for impl, t in impls.items():
                    if impl == "ceiling":
                        continue
                    series[impl].append((n, nbytes[(v, d, n, dt, st)] / t / 1e9))
        for impl, pts in sorted(series.items()):
            pts.sort()
            style_ = "-o" if impl.startswith("fastact") else "--."
            (handles[impl],) = ax.plot(*zip(*pts, strict=True), style_, label=impl,
                                       color=COLORS.get(impl))
        ceil = sorted((n, g / 1e9) for (n, dt), g in copies.items() if dt == "float32")
        if ceil:
            (handles["copy ceiling"],) = ax.plot(*zip(*ceil, strict=True), ":", color="black",
                                                 label="copy ceiling")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{variant} {direction}, {style} (float32)")
        ax.set_xlabel("N (elements)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("GB/s (read + written)")
    axes[2].set_ylabel("GB/s (read + written)")
    if not handles:  # no activation rows in this run (e.g. only the integration benchmarks)
        plt.close(fig)
        return False
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles),
               fontsize=9)
    m = data.get("machine_info", {})
    fig.suptitle(f"fastact vs peers on {m.get('cpu_model', '?')}, "
                 f"{m.get('logical_cores', '?')} cores")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="?", type=Path, help="a pytest-benchmark JSON file")
    ap.add_argument("--latest", type=Path, help="use the newest JSON under this folder")
    ap.add_argument("--md", type=Path, help="markdown output (default: beside the JSON)")
    ap.add_argument("--png", type=Path, help="PNG output (default: beside the JSON)")
    args = ap.parse_args(argv)
    if args.json is None:
        if args.latest is None:
            ap.error("give a JSON file or --latest DIR")
        args.json = latest(args.latest)[0]
    data = load(args.json)
    md_path = args.md or args.json.with_suffix(".md")
    png_path = args.png or args.json.with_suffix(".png")
    md_path.write_text(markdown(data, str(args.json)))
    print(f"report:   {md_path}")
    if plot(data, png_path):
        print(f"plot:     {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
