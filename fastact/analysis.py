"""Properties of an activation on a grid (``analyze``), dead units (``dead_fraction``), plots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import ACTIVATIONS

#: |f'| below this counts as a vanishing gradient, above EXPLODING as an exploding one
VANISHING = 1e-3
EXPLODING = 1e3
#: the value a "weight" parameter (prelu's) takes where none is given: torch.nn.PReLU's init
WEIGHT_INIT = 0.25


@dataclass(frozen=True)
class Analysis:
    """What ``analyze`` measured for one activation on ``n`` evenly spaced points of [lo, hi]."""

    name: str
    params: dict
    lo: float
    hi: float
    n: int
    #: max |f'(x)| on the grid
    lipschitz: float
    #: share of grid points where |f'(x)| < 1e-3
    vanishing_fraction: float
    #: share of grid points where |f'(x)| > 1e3
    exploding_fraction: float
    #: f never decreases, or never increases, from one grid point to the next
    monotonic: bool
    #: f(0) = 0 and f takes both signs on the grid (outputs centred on zero, as tanh, not sigmoid)
    zero_centered: bool
    #: (min f, max f) on the grid
    output_range: tuple[float, float]


def _default_weight(spec, params):
    if spec.has_weight:
        params.setdefault(spec.weight_param.name, WEIGHT_INIT)


def _spec(name):
    """The entry analysed for ``name``: a gated activation's gate (swiglu: silu; glu: sigmoid),
    the element-wise function its gate applies."""
    try:
        spec = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None
    if spec.reduction:
        raise ValueError(f"{name} is {spec.kind}: a reduction along an axis, not a function of one "
                         "element, so it has no curve to analyse")
    return ACTIVATIONS[spec.gate] if spec.gate else spec


def analyze(name: str, lo: float = -5.0, hi: float = 5.0, n: int = 10001, **params) -> Analysis:
    """Lipschitz constant, vanishing/exploding gradient shares and shape of activation ``name``
    (a gated activation's: those of the element-wise function its gate applies).

    Evaluated in float64 with fastact's own forward and derivative on ``n`` evenly spaced points
    of ``[lo, hi]`` (0 is on the default grid, so kinks at 0 count with their convention).

    >>> import fastact
    >>> a = fastact.analyze("relu")
    >>> a.lipschitz, round(a.vanishing_fraction, 3), a.exploding_fraction, a.monotonic
    (1.0, 0.5, 0.0, True)
    >>> fastact.analyze("tanh").zero_centered, fastact.analyze("sigmoid").zero_centered
    (True, False)
    """
    import fastact

    spec = _spec(name)
    name = spec.name
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"analyze: need finite lo < hi, got lo={lo}, hi={hi}")
    if int(n) != n or n < 2:
        raise ValueError(f"analyze: n must be an integer >= 2, got {n}")
    _default_weight(spec, params)
    x = np.linspace(lo, hi, int(n))
    y = getattr(fastact, name)(x, **params)
    d = np.abs(fastact.derivative(name, x, **params))
    steps = np.diff(y)
    f0 = getattr(fastact, name)(np.float64(0.0), **params)
    return Analysis(
        name=name, params=dict(params), lo=float(lo), hi=float(hi), n=int(n),
        lipschitz=float(d.max()),
        vanishing_fraction=float(np.mean(d < VANISHING)),
        exploding_fraction=float(np.mean(d > EXPLODING)),
        monotonic=bool(np.all(steps >= 0) or np.all(steps <= 0)),
        zero_centered=bool(f0 == 0 and y.min() < 0 < y.max()),
        output_range=(float(y.min()), float(y.max())),
    )


def dead_fraction(activations, axis=0) -> float:
    """Share of units that are exactly zero for every sample (dead ReLUs).

    ``activations``: a layer's outputs, samples along ``axis`` (default 0: ``(batch, units...)``).

    >>> import numpy as np, fastact
    >>> fastact.dead_fraction(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]))
    0.3333333333333333
    """
    a = np.asarray(activations)
    if a.ndim == 0:
        raise ValueError("dead_fraction: needs an array of samples along an axis, got a scalar")
    return float(np.mean(np.all(a == 0, axis=axis)))


def plot(names, derivative: bool = True, lo: float = -5.0, hi: float = 5.0, path=None,
         n: int = 1001, params: dict | None = None):
    """Each activation (solid) with its derivative (dashed), axes through the origin (a gated
    activation: the element-wise function of its gate).

    ``names``: one name or several; ``params``: optional ``{name: {param: value}}``. Returns the
    matplotlib Figure and saves it (PNG by extension) when ``path`` is given. Needs the
    ``fastact[plot]`` extra (matplotlib).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "fastact.plot needs matplotlib: pip install 'fastact[plot]'") from None
    import fastact

    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("plot: give at least one activation name")
    specs = [_spec(name) for name in names]
    params = params or {}
    x = np.linspace(lo, hi, n)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for i, (name, spec) in enumerate(zip(names, specs, strict=True)):
        p = dict(params.get(name, {}))
        _default_weight(spec, p)
        color = f"C{i % 10}"
        label = name if spec.name == name else f"{name} (its gate: {spec.name})"
        ax.plot(x, getattr(fastact, spec.name)(x, **p), color=color, lw=2, label=label)
        if derivative:
            ax.plot(x, fastact.derivative(spec.name, x, **p), color=color, lw=1.2, ls="--",
                    label=f"{spec.name}′")
    for side in ("left", "bottom"):
        ax.spines[side].set_position("zero")
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(", ".join(names) + (" and derivatives" if derivative else ""))
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
