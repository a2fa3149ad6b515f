"""Row loops of the axis-wise activations (softmax, softmin, log_softmax, logsumexp, sparsemax).

Each loop runs the units ``[lo, hi)`` of its operands (see below) and releases the GIL: the
serial backend runs all units in one call, the parallel backend splits them among a pool of
Python threads (one compiled loop serves both, where a ``prange`` form would be compiled again
for every dtype and operand type).

Geometry. A contiguous array seen in its memory order is ``(outer, L, inner)``: ``outer`` rows
of ``L`` elements along the reduced axis, each element a run of ``inner`` contiguous elements
(``inner == 1`` when the axis is the last in memory). Every operand is a flat 1-D view; nothing is
transposed. A reduced output (logsumexp's, a reduced gradient input) is ``(outer, inner)``. The
work is cut into *units*:

- ``inner == 1``: a unit is one row. Its reductions are loops LLVM vectorizes into partial
  results: the maximum with ``llvm.maximum`` (NaN propagates), the sums with additions flagged
  ``reassoc`` one block of ``BLOCK`` elements at a time, the blocks' sums then added with TwoSum
  (a compensated sum: a row of 1e6 elements keeps float64's last digits). The row stays in
  cache between its passes.
- ``inner > 1``: a unit is a tile of ``tile`` neighbouring columns of one outer index (chosen by
  the caller: whole runs of ``inner`` where there are enough rows for the threads, else a split
  of them). Softmax, log_softmax, logsumexp and the gradients from the output work on the tile
  in place, reading each of its L rows as one contiguous run of ``tile`` elements (long runs:
  the prefetchers stream them, where columns read one by one would miss the TLB on every
  element); each column keeps its maximum and sums in small arrays, and the loop over a run is
  the vectorized one (each loop writes at most three arrays, within LLVM's runtime alias checks).
  The sums over the L rows are plain float64 sums. The other gradients and sparsemax gather
  ``GATHER`` columns at a time into a buffer, one row per column, run the row code on it and
  scatter the result back.

Each algorithm reads its unit a few times: the maximum ``m``, then the sum of ``exp(x - m)`` over
the elements below the maximum and the count of those equal to it (so that log_softmax's
``log(s) = log1p(rest)`` sees the small rest exactly), storing the exponentials in the output,
then the element map (softmax: the stored exponentials times ``1/s``) with the kernels of
``fastact.kernels.axiswise``. The loops are compiled without ``reassoc``, so the compensations and
the kernels' error-free transformations stay.

``mask`` is None or a bool array of x's layout (``where=``): False elements are left out of the
reductions and give 0 (-inf for log_softmax, 0 in the gradients). Numba compiles a loop once per
mask type (None or array), and per type of the other optional operands.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from fastact import kernels as K
from fastact.kernels._bits import add_reassoc, maximum, narrow, select, widen
from fastact.kernels._jit import FASTMATH
from fastact.kernels._math import log1p, two_sum

_OPTIONS = {"cache": True, "nogil": True, "fastmath": FASTMATH, "error_model": "numpy"}
_INLINE = dict(_OPTIONS, inline="always")

#: elements per block of a row's sums: the block's partial sums are plain (vectorized), the
#: blocks' sums compensated
BLOCK = 256
#: columns gathered at a time by the loops that gather (sparsemax, the gradients from x)
GATHER = 16


def view(a, o, n):
    """``a[o:o + n]``, or None for None. The loops index such views from 0: with an offset
    index (``x[o + i]``, a signed integer that might be negative) Numba's wraparound makes the
    addresses non-affine and LLVM vectorizes the loads as gathers."""


@overload(view, inline="always")
def _view(a, o, n):
    if isinstance(a, types.NoneType):
        return lambda a, o, n: None
    return lambda a, o, n: a[o:o + n]


@intrinsic
def prefetch(typingctx, arr, i):
    """Ask the CPU to bring ``arr[i]``'s cache line into L2 (``llvm.prefetch``, read, locality
    2): a row's passes that compute from cache let the next row's load overlap, without pushing
    the current row out of L1."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]],
                                       wraparound=False)
        i32, p8 = ir.IntType(32), ir.IntType(8).as_pointer()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [p8, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, p8), i32(0), i32(2), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, i), codegen


#: bytes of a cache line
LINE = 64


def one(x):
    """1 in the dtype x's elements are computed in (float32 for a bfloat16 x)."""


@overload(one, inline="always")
def _one(x):
    if x.dtype == types.uint16:
        return lambda x: np.float32(1)
    return lambda x: x.dtype.type(1)


def buffer(a, n):
    """A scratch array of n elements of a's dtype, or None for None."""


@overload(buffer, inline="always")
def _buffer(a, n):
    if isinstance(a, types.NoneType):
        return lambda a, n: None
    return lambda a, n: np.empty(n, a.dtype)


@njit(**_INLINE)
def _next(a, o, L, end):
    """The row after the one at ``o`` (itself for the last row before ``end``)."""
    n = o + L if o + 2 * L <= end else o
    return a[n:n + L]


@njit(**_INLINE)
def _tile(u, L, inner, tile):
    """(base, width, out base) of tile ``u``: element (row r, column j) at ``base + r * inner +
    j``, the reduced output of column j at ``out base + j``."""
    tiles = (inner + tile - 1) // tile
    o = u // tiles
    j0 = (u - o * tiles) * tile
    return o * L * inner + j0, min(tile, inner - j0), o * inner + j0


@njit(**_INLINE)
def _gather(src, dst, base, L, inner, w):
    """Columns j < w of the tile at ``base`` into ``dst`` as rows: ``dst[j L + r]``."""
    if src is not None:
        for r in range(L):
            s = src[base + r * inner:base + r * inner + w]
            for j in range(w):
                dst[j * L + r] = s[j]


@njit(**_INLINE)
def _scatter(src, dst, base, L, inner, w):
    for r in range(L):
        d = dst[base + r * inner:base + r * inner + w]
        for j in range(w):
            d[j] = src[j * L + r]


def _value(x, i, sign, mask):
    """The element a reduction sees: ``sign * x[i]`` (sign's dtype), -inf where masked out."""


@overload(_value, inline="always")
def _value_impl(x, i, sign, mask):
    if isinstance(mask, types.NoneType):
        return lambda x, i, sign, mask: widen(x[i]) * sign

    return lambda x, i, sign, mask: select(mask[i], widen(x[i]) * sign, type(sign)(-np.inf))


def _keep(mask, i, v, other):
    """``v``, or ``other`` where masked out."""


@overload(_keep, inline="always")
def _keep_impl(mask, i, v, other):
    if isinstance(mask, types.NoneType):
        return lambda mask, i, v, other: v

    return lambda mask, i, v, other: select(mask[i], v, other)


@njit(**_OPTIONS)
def _log1p(x):
    """log1p, compiled once (inlined into a loop body, Numba's SSA pass warns about it)."""
    return log1p(x)


# -- one row (inner == 1): views of the row, indexed from 0 -------------------------------------


@njit(**_OPTIONS)
def _row_stats(x, sign, mask, g, mode, e, store, nxt):
    """``(m, rest, extra)`` of the row x: its maximum (in sign's dtype, the computing one),
    ``sum(exp(x - m)) - 1`` (the elements below the maximum summed, plus the count of the others
    less one) and, with ``g``, ``sum(g exp(x - m))`` (mode 1) or ``sum(g)`` (mode 2) over the
    unmasked elements.

    The exponentials go to ``e``: the row's own place in it where ``store`` (softmax keeps them),
    else a scratch of BLOCK elements. Each block is two loops: the exponentials in the computing
    dtype (LLVM sizes a loop's vectors by its widest type: with the float64 sums beside them,
    float32 exponentials would run at half width), then their float64 sums. An exponential that is
    exactly 1 is counted with the maxima: it adds the same 1 either way. ``e`` is of the computing
    dtype, never a bfloat16 row's words. While a block computes from cache, the same span of ``nxt``
    (the next row) is prefetched: its maximum pass then reads from cache instead of waiting on
    memory."""
    n = x.size
    m = type(sign)(-np.inf)
    for i in range(n):
        m = maximum(m, _value(x, i, sign, mask))
    s, sc, k, t, tc = 0.0, 0.0, 0.0, 0.0, 0.0
    for b in range(0, n, BLOCK):
        c = min(BLOCK, n - b)
        xb, mb, gb = x[b:b + c], view(mask, b, c), view(g, b, c)
        eb = e[b:b + c] if store else e[:c]
        for p in range(b, min(b + c, nxt.size), LINE // nxt.itemsize):
            prefetch(nxt, p)
        for i in range(c):
            eb[i] = K.exp_shifted(_value(xb, i, sign, mb), m)
        bs, bk, bt = 0.0, 0.0, 0.0
        for i in range(c):
            ei = np.float64(eb[i])
            one = ei == 1.0
            bs = add_reassoc(bs, 0.0 if one else ei)
            bk = add_reassoc(bk, 1.0 if one else 0.0)
            if g is not None:
                gv = _keep(mb, i, np.float64(gb[i]), 0.0)
                bt = add_reassoc(bt, gv * ei if mode == 1 else gv)
        s, d = two_sum(s, bs)
        sc += d
        k += bk
        if g is not None:
            t, d = two_sum(t, bt)
            tc += d
    rest = ((k - 1.0) + s) + sc
    if not (m - m) == 0:  # a maximum of +-inf: NaN, as exp(inf - inf) in torch's sum
        rest = np.nan
    return m, rest, t + tc


@njit(**_OPTIONS)
def _row_dot(g, y, mask, mode):
    """``sum(g * y)`` (mode 1) or ``sum(g)`` (mode 2) over the unmasked elements of a row."""
    n = g.size
    t, tc = 0.0, 0.0
    for b in range(0, n, BLOCK):
        c = min(BLOCK, n - b)
        gb, yb, mb = g[b:b + c], y[b:b + c], view(mask, b, c)
        bt = 0.0
        for i in range(c):
            gv = _keep(mb, i, np.float64(widen(gb[i])), 0.0)
            bt = add_reassoc(bt, gv * np.float64(widen(yb[i])) if mode == 1 else gv)
        t, d = two_sum(t, bt)
        tc += d
    return t + tc


# -- one tile of columns (inner > 1): a view of each row's run of w columns ---------------------


@njit(**_OPTIONS)
def _cols_stats(x, mask, e, store, base, L, inner, w, sign, m, s, k):
    """Per column j < w of the tile at ``base``: the maximum m[j] and, in s[j], ``rest`` as in
    ``_row_stats``. The exponentials of each row of the tile go to ``e`` (not x itself): their
    own places where ``store``, else a scratch of w elements; then the float64 sums (two loops,
    as in ``_row_stats``)."""
    m[:w] = -np.inf
    for r in range(L):
        o = base + r * inner
        xr, mr = x[o:o + w], view(mask, o, w)
        for j in range(w):
            m[j] = maximum(m[j], _value(xr, j, sign, mr))
    s[:w] = 0.0
    k[:w] = 0.0
    for r in range(L):
        o = base + r * inner
        xr, mr = x[o:o + w], view(mask, o, w)
        er = e[o:o + w] if store else e[:w]
        for j in range(w):
            er[j] = K.exp_shifted(_value(xr, j, sign, mr), m[j])
        for j in range(w):
            ej = np.float64(er[j])
            one = ej == 1.0
            s[j] += 0.0 if one else ej
            k[j] += 1.0 if one else 0.0
    for j in range(w):  # a maximum of +-inf: NaN, as exp(inf - inf) in torch's sum
        s[j] = (k[j] - 1.0) + s[j] if (m[j] - m[j]) == 0 else np.nan


@njit(**_OPTIONS)
def _cols_dot(g, y, mask, base, L, inner, w, mode, t):
    """Per column j < w: ``sum(g * y)`` (mode 1) or ``sum(g)`` (mode 2) in t[j]."""
    t[:w] = 0.0
    for r in range(L):
        o = base + r * inner
        gr, yr, mr = g[o:o + w], y[o:o + w], view(mask, o, w)
        for j in range(w):
            gv = _keep(mr, j, np.float64(widen(gr[j])), 0.0)
            t[j] += gv * np.float64(widen(yr[j])) if mode == 1 else gv


# -- softmax, softmin, log_softmax ------------------------------------------------------------


@njit(**_OPTIONS)
def _softmax_row(x, mask, y, sign, log, e, nxt, ey):
    """One row (``e``: a scratch of BLOCK elements; ``nxt``: the next row, prefetched; ``ey``:
    where the exponentials wait for the final scaling, y itself or a row of scratch)."""
    T = type(sign)
    if log:
        m, rest, _ = _row_stats(x, sign, mask, None, 0, e, False, nxt)
        q = T(_log1p(rest))
        for i in range(x.size):
            y[i] = narrow(y, _keep(mask, i, K.log_softmax_term(widen(x[i]) * sign, m, q),
                                   T(-np.inf)))
    else:
        m, rest, _ = _row_stats(x, sign, mask, None, 0, ey, True, nxt)
        q = T(1.0 / (rest + 1.0))
        for i in range(x.size):
            y[i] = narrow(y, _keep(mask, i, ey[i] * q, T(0)))


def row_scratch(y, n, sign):
    """Where a row's exponentials wait: None for a float y (they go to y itself), n elements of
    sign's dtype for a bfloat16 y (its words would round them)."""


@overload(row_scratch, inline="always")
def _row_scratch(y, n, sign):
    if y.dtype == types.uint16:
        return lambda y, n, sign: np.empty(n, type(sign))
    return lambda y, n, sign: None


def exps_in(scratch, y):
    """``y`` where ``scratch`` is None, else the scratch (at most y's size)."""


@overload(exps_in, inline="always")
def _exps_in(scratch, y):
    if isinstance(scratch, types.NoneType):
        return lambda scratch, y: y
    return lambda scratch, y: scratch[:y.size]


def stored_exp(scratch, yr, xr, j, sign, mr, mj):
    """The exponential of a tile's element j: stored in ``yr[j]`` (no scratch), else computed
    again from ``xr[j]`` (a bfloat16 y, which holds no exponentials)."""


@overload(stored_exp, inline="always")
def _stored_exp(scratch, yr, xr, j, sign, mr, mj):
    if isinstance(scratch, types.NoneType):
        return lambda scratch, yr, xr, j, sign, mr, mj: yr[j]
    return lambda scratch, yr, xr, j, sign, mr, mj: K.exp_shifted(_value(xr, j, sign, mr), mj)


@njit(**_OPTIONS)
def softmax(x, mask, y, lo, hi, L, inner, tile, sign, log):
    """softmax (sign 1), softmin (sign -1) or, with ``log``, log_softmax of x into y, units
    [lo, hi)."""
    if inner == 1:
        e, ey = np.empty(BLOCK, type(sign)), row_scratch(y, L, sign)
        for u in range(lo, hi):
            o = u * L
            _softmax_row(x[o:o + L], view(mask, o, L), y[o:o + L], sign, log, e,
                         _next(x, o, L, hi * L), exps_in(ey, y[o:o + L]))
        return
    T = type(sign)
    m, q, s, k = np.empty(tile, T), np.empty(tile, T), np.empty(tile), np.empty(tile)
    et = row_scratch(y, tile, sign)  # a bfloat16 y: the exponentials computed again at the end
    for u in range(lo, hi):
        base, w, _ = _tile(u, L, inner, tile)
        _cols_stats(x, mask, exps_in(et, y), et is None, base, L, inner, w, sign, m, s, k)
        for j in range(w):
            q[j] = T(_log1p(s[j])) if log else T(1.0 / (s[j] + 1.0))
        for r in range(L):
            o = base + r * inner
            xr, mr, yr = x[o:o + w], view(mask, o, w), y[o:o + w]
            if log:
                for j in range(w):
                    yr[j] = narrow(yr, _keep(mr, j, K.log_softmax_term(widen(xr[j]) * sign, m[j],
                                                                       q[j]), T(-np.inf)))
            else:
                for j in range(w):
                    yr[j] = narrow(yr, _keep(mr, j, stored_exp(et, yr, xr, j, sign, mr, m[j])
                                             * q[j], T(0)))


@njit(**_OPTIONS)
def _softmax_grad_row(g, y, mask, dx, sign, log, gn, yn):
    """From the output y: ``dx = sign y (g - sum(g y))``, log: ``g - exp(y) sum(g)``; the
    next row's g and y (``gn``, ``yn``) are prefetched while this one's map computes."""
    T = type(sign)
    t = T(_row_dot(g, y, mask, 2 if log else 1))
    n = g.size
    for b in range(0, n, BLOCK):
        c = min(BLOCK, n - b)
        gb, yb, mb, db = g[b:b + c], y[b:b + c], view(mask, b, c), dx[b:b + c]
        for p in range(b, min(b + c, gn.size), LINE // gn.itemsize):
            prefetch(gn, p)
            prefetch(yn, p)
        for i in range(c):
            gi, yi = widen(gb[i]), widen(yb[i])
            v = K.log_softmax_grad_term(gi, yi, t) if log else \
                K.softmax_grad_term(gi, yi, t) * sign
            db[i] = narrow(db, _keep(mb, i, v, T(0)))


@njit(**_OPTIONS)
def softmax_grad(g, y, mask, dx, lo, hi, L, inner, tile, sign, log):
    """The gradient of ``softmax(x, mask, ..., sign, log)`` from grad_output g and the output
    y, units [lo, hi)."""
    if inner == 1:
        for u in range(lo, hi):
            o = u * L
            _softmax_grad_row(g[o:o + L], y[o:o + L], view(mask, o, L), dx[o:o + L], sign, log,
                              _next(g, o, L, hi * L), _next(y, o, L, hi * L))
        return
    T = type(sign)
    t, tt = np.empty(tile), np.empty(tile, T)
    for u in range(lo, hi):  # in place on the tile
        base, w, _ = _tile(u, L, inner, tile)
        _cols_dot(g, y, mask, base, L, inner, w, 2 if log else 1, t)
        for j in range(w):
            tt[j] = T(t[j])
        for r in range(L):
            o = base + r * inner
            gr, yr, mr, dr = g[o:o + w], y[o:o + w], view(mask, o, w), dx[o:o + w]
            for j in range(w):
                gj, yj = widen(gr[j]), widen(yr[j])
                v = K.log_softmax_grad_term(gj, yj, tt[j]) if log else \
                    K.softmax_grad_term(gj, yj, tt[j]) * sign
                dr[j] = narrow(dr, _keep(mr, j, v, T(0)))


@njit(**_OPTIONS)
def _softmax_grad_x_row(g, x, mask, dx, sign, log, e, nxt):
    """From the input x: its maximum and sums (with ``sum(g exp(x - m))`` or ``sum(g)``) in
    one pass, then dx."""
    m, rest, t = _row_stats(x, sign, mask, g, 2 if log else 1, e, False, nxt)
    inv = 1.0 / (rest + 1.0)
    t = t if log else t * inv
    for i in range(g.size):
        p = np.float64(K.exp_shifted(x[i] * sign, m)) * inv
        v = np.float64(g[i]) - p * t if log else p * (np.float64(g[i]) - t) * sign
        dx[i] = _keep(mask, i, v, 0.0)


@njit(**_OPTIONS)
def softmax_grad_x(g, x, mask, dx, lo, hi, L, inner, tile, sign, log):
    """The gradient of ``softmax(x, mask, ..., sign, log)`` from grad_output g and the input x,
    in one pass over each row, units [lo, hi)."""
    e = np.empty(BLOCK, x.dtype)
    if inner == 1:
        for u in range(lo, hi):
            o = u * L
            _softmax_grad_x_row(g[o:o + L], x[o:o + L], view(mask, o, L), dx[o:o + L], sign,
                                log, e, _next(x, o, L, hi * L))
        return
    n = GATHER * L
    bg, bx, bm, bd = np.empty(n, g.dtype), np.empty(n, x.dtype), buffer(mask, n), \
        np.empty(n, dx.dtype)
    for u in range(lo, hi):
        base0, w0, _ = _tile(u, L, inner, tile)
        for j0 in range(0, w0, GATHER):  # GATHER columns at a time
            base, w = base0 + j0, min(GATHER, w0 - j0)
            _gather(g, bg, base, L, inner, w)
            _gather(x, bx, base, L, inner, w)
            _gather(mask, bm, base, L, inner, w)
            for j in range(w):
                o = j * L
                _softmax_grad_x_row(bg[o:o + L], bx[o:o + L], view(bm, o, L), bd[o:o + L],
                                    sign, log, e, bx[o:o + L])
            _scatter(bd, dx, base, L, inner, w)


# -- logsumexp --------------------------------------------------------------------------------


@njit(**_INLINE)
def _lse(m, rest):
    """``m + log(1 + rest)``; +-inf where the maximum is (torch's and scipy's limits: a row of
    -inf gives -inf, a row with +inf gives +inf), NaN where the row has one."""
    total = m + _log1p(rest)
    if not (m - m) == 0.0:
        total = m
    return total


@njit(**_OPTIONS)
def logsumexp(x, mask, out, lo, hi, L, inner, tile):
    """``log(sum(exp(x)))`` of units [lo, hi) into the reduced array ``out`` (outer x inner)."""
    sign = one(x)
    e = np.empty(max(BLOCK, tile), type(sign))  # the exponentials of a block (or a tile's row)
    if inner == 1:
        for u in range(lo, hi):
            o = u * L
            m, rest, _ = _row_stats(x[o:o + L], sign, view(mask, o, L), None, 0, e, False,
                                    _next(x, o, L, hi * L))
            out[u] = narrow(out, _lse(np.float64(m), rest))
        return
    m, s, k = np.empty(tile, type(sign)), np.empty(tile), np.empty(tile)
    for u in range(lo, hi):
        base, w, ob = _tile(u, L, inner, tile)
        _cols_stats(x, mask, e, False, base, L, inner, w, sign, m, s, k)
        for j in range(w):
            out[ob + j] = narrow(out, _lse(np.float64(m[j]), s[j]))


@njit(**_OPTIONS)
def _logsumexp_grad_row(gu, x, lse, mask, dx, e, nxt):
    """``dx = g exp(x - lse)`` over a row (g, lse: the row's scalars; lse NaN: computed here)."""
    T = x.dtype.type
    if lse == lse:
        gt, t = T(gu), T(lse)
        for i in range(x.size):
            dx[i] = _keep(mask, i, K.logsumexp_grad_term(gt, x[i], t), T(0))
        return
    m, rest, _ = _row_stats(x, x.dtype.type(1), mask, None, 0, e, False, nxt)
    if not (m - m) == 0:  # logsumexp is the infinite maximum: g exp(x - lse), as torch
        for i in range(x.size):
            dx[i] = _keep(mask, i, K.logsumexp_grad_term(gu, x[i], m), 0.0)
        return
    inv = gu / (rest + 1.0)
    for i in range(x.size):
        dx[i] = _keep(mask, i, np.float64(K.exp_shifted(x[i], m)) * inv, 0.0)


@njit(**_OPTIONS)
def logsumexp_grad(g, x, lse, mask, dx, lo, hi, L, inner, tile):
    """``dx = g exp(x - lse)`` for units [lo, hi), g and lse reduced (outer x inner); an lse of
    NaN is computed."""
    e = np.empty(BLOCK, x.dtype)
    if inner == 1:
        for u in range(lo, hi):
            o = u * L
            _logsumexp_grad_row(np.float64(g[u]), x[o:o + L], np.float64(lse[u]),
                                view(mask, o, L), dx[o:o + L], e, _next(x, o, L, hi * L))
        return
    n = GATHER * L
    bx, bm, bd = np.empty(n, x.dtype), buffer(mask, n), np.empty(n, dx.dtype)
    gt, lt = np.empty(tile, x.dtype), np.empty(tile, x.dtype)
    T = x.dtype.type
    for u in range(lo, hi):
        base0, w0, ob0 = _tile(u, L, inner, tile)
        given = True
        for j in range(w0):
            gt[j], lt[j] = T(g[ob0 + j]), T(lse[ob0 + j])
            given = given and lse[ob0 + j] == lse[ob0 + j]
        if given:  # each column's logsumexp is known: an element-wise map over the tile
            for r in range(L):
                o = base0 + r * inner
                xr, mr, dr = x[o:o + w0], view(mask, o, w0), dx[o:o + w0]
                for j in range(w0):
                    dr[j] = _keep(mr, j, K.logsumexp_grad_term(gt[j], xr[j], lt[j]), T(0))
            continue
        for j0 in range(0, w0, GATHER):  # GATHER columns at a time
            base, w, ob = base0 + j0, min(GATHER, w0 - j0), ob0 + j0
            _gather(x, bx, base, L, inner, w)
            _gather(mask, bm, base, L, inner, w)
            for j in range(w):
                o = j * L
                _logsumexp_grad_row(np.float64(g[ob + j]), bx[o:o + L], np.float64(lse[ob + j]),
                                    view(bm, o, L), bd[o:o + L], e, bx[o:o + L])
            _scatter(bd, dx, base, L, inner, w)


# -- sparsemax --------------------------------------------------------------------------------


@njit(**_OPTIONS)
def _sparsemax_tau(x):
    """The threshold ``tau`` of the row x: ``sum(max(x - tau, 0)) == 1`` (Martins & Astudillo),
    by Michelot's iteration: ``tau = (sum(x > tau) - 1) / count(x > tau)`` from
    ``tau = max - 1`` rises to the fixed point in a few passes (at most one per element). NaN
    for a row with NaN or +inf, or only -inf."""
    mx = -np.inf
    for i in range(x.size):
        mx = maximum(mx, np.float64(x[i]))
    if not (mx - mx) == 0.0:
        return np.nan
    tau = -1.0  # relative to mx: the support lies in x - mx > -1
    for _ in range(x.size + 1):
        s, c, k = 0.0, 0.0, 0.0
        for i in range(x.size):
            z = np.float64(x[i]) - mx
            if z > tau:
                s, d = two_sum(s, z)
                c += d
                k += 1.0
        new = ((s + c) - 1.0) / k
        if not new > tau:
            break
        tau = new
    return mx + tau


@njit(**_OPTIONS)
def _sparsemax_row(x, y):
    tau = _sparsemax_tau(x)
    for i in range(x.size):
        y[i] = K.sparsemax_term(x[i], tau)


@njit(**_OPTIONS)
def sparsemax(x, y, lo, hi, L, inner, tile):
    """sparsemax of units [lo, hi) of x into y."""
    if inner == 1:
        for u in range(lo, hi):
            _sparsemax_row(x[u * L:(u + 1) * L], y[u * L:(u + 1) * L])
        return
    bx, by = np.empty(GATHER * L, x.dtype), np.empty(GATHER * L, y.dtype)
    for u in range(lo, hi):
        base0, w0, _ = _tile(u, L, inner, tile)
        for j0 in range(0, w0, GATHER):  # GATHER columns at a time
            base, w = base0 + j0, min(GATHER, w0 - j0)
            _gather(x, bx, base, L, inner, w)
            for j in range(w):
                _sparsemax_row(bx[j * L:(j + 1) * L], by[j * L:(j + 1) * L])
            _scatter(by, y, base, L, inner, w)


@njit(**_OPTIONS)
def _sparsemax_grad_row(g, y, dx):
    """dx of one row: ``g - mean(g over the support)`` on the support ``y > 0`` (NaN in y
    counts, to reach the result), 0 elsewhere."""
    s, c, k = 0.0, 0.0, 0.0
    for i in range(g.size):
        if y[i] > 0 or y[i] != y[i]:
            s, d = two_sum(s, np.float64(g[i]))
            c += d
            k += 1.0
    mean = (s + c) / k
    for i in range(g.size):
        dx[i] = K.sparsemax_grad_term(g[i], y[i], mean)


@njit(**_OPTIONS)
def sparsemax_grad(g, y, dx, lo, hi, L, inner, tile):
    """The gradient of sparsemax from grad_output g and the output y, units [lo, hi)."""
    if inner == 1:
        for u in range(lo, hi):
            o = u * L
            _sparsemax_grad_row(g[o:o + L], y[o:o + L], dx[o:o + L])
        return
    n = GATHER * L
    bg, by, bd = np.empty(n, g.dtype), np.empty(n, y.dtype), np.empty(n, dx.dtype)
    for u in range(lo, hi):
        base0, w0, _ = _tile(u, L, inner, tile)
        for j0 in range(0, w0, GATHER):  # GATHER columns at a time
            base, w = base0 + j0, min(GATHER, w0 - j0)
            _gather(g, bg, base, L, inner, w)
            _gather(y, by, base, L, inner, w)
            for j in range(w):
                o = j * L
                _sparsemax_grad_row(bg[o:o + L], by[o:o + L], bd[o:o + L])
            _scatter(bd, dx, base, L, inner, w)


# -- bfloat16 ---------------------------------------------------------------------------------


@njit(**_OPTIONS)
def convert(src, dst):
    """``dst[i] = src[i]`` between a bfloat16 array's 16-bit words and float32: widened
    exactly, or rounded to nearest even (the backends run the float32 loops above on float32
    copies of bfloat16 rows)."""
    for i in range(dst.size):
        dst[i] = narrow(dst, widen(src[i]))
