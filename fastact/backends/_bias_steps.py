"""The steps a fused bias loop (fastact.backends._bias_loops) runs on each chunk of a row.

``x + bias`` is formed in the loop's dtype exactly as NumPy forms it (float32 and float64: one
rounded addition; bfloat16 words: the float32 sum of the widened words rounded to bfloat16, as
ml_dtypes adds), so a fused call is bit-identical to the activation of ``x + bias`` computed
first. A chunk's bias is either a contiguous run (``sn == 1``: the bias varies along the row)
or one element (``sn == 0``: the row's bias is a scalar).

The bias gradient is summed in float64, with compensation (TwoSum) where the data are float64 or
a row is reduced: ``acc[0]`` holds the sums, ``acc[1]`` their rounding errors, one element per
element of the bias.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from fastact.kernels._bits import add_reassoc, narrow, widen
from fastact.kernels._jit import FASTMATH
from fastact.kernels._math import two_sum

_OPTIONS = {"cache": True, "nogil": True, "fastmath": FASTMATH, "error_model": "numpy"}

#: elements of a row processed at a time: the chunk's input, bias, output and scratch stay in
#: L1 (8 KiB each in float32) between the addition, the kernel's loop and the bias sum
CHUNK = 2048

#: elements of a row a gradient's loop computes at a time, then adds into the bias sums while
#: they are in cache (16 KiB of float32, beside 32 KiB of float64 sums): measured on
#: (8192, 4096) float32 gelu_grad, 2 threads, against the loop without a bias: 1.12x with
#: chunks of 4096, 1.30x with 2048 (tiles of 4 rows), 1.60x with 1024 (tiles of 8 rows)
GRAD_CHUNK = 4096

#: rows of a gradient's chunk computed before their sums are added into the bias sums together
#: (:func:`accumulate_rows`, four at a time): the float64 sums are then read and written once for
#: every four rows, not once a row
ROWS = 4

#: elements of a row-sum block whose additions may be reordered (vectorized partial sums); the
#: blocks' sums are then added with compensation
BLOCK = 256


@njit(**_OPTIONS)
def add_to(x, b, k, sn, h):
    """``h = x + b[k:]`` (``sn == 1``) or ``h = x + b[k]`` (``sn == 0``), element-wise."""
    m = h.size
    if sn:
        bs = b[k:k + m]
        for i in range(m):
            h[i] = narrow(h, widen(x[i]) + widen(bs[i]))
    else:
        bv = widen(b[k])
        for i in range(m):
            h[i] = narrow(h, widen(x[i]) + bv)


@njit(**_OPTIONS)
def accumulate(o, acc, k, sn):
    """Add the chunk ``o`` into the bias-gradient sums: element-wise into ``acc[:, k:]``
    (``sn == 1``), or its total into ``acc[:, k]`` (``sn == 0``).

    Element-wise, a float64 chunk's sums are compensated; a float32 or bfloat16 chunk's are
    plain float64 sums (``acc[1]`` stays 0): each term is exact in float64 and a sum of n of
    them is within n * 2**-53 of their magnitudes, far below the result's float32 rounding for
    any n an array holds, at half the cache traffic."""
    m = o.size
    if sn:
        s = acc[0, k:k + m]
        if o.itemsize == 8:
            c = acc[1, k:k + m]
            for i in range(m):
                t, e = two_sum(s[i], np.float64(widen(o[i])))
                s[i] = t
                c[i] += e
        else:
            for i in range(m):
                s[i] += np.float64(widen(o[i]))
        return
    for b in range(0, m, BLOCK):
        ob = o[b:min(b + BLOCK, m)]
        bs = 0.0
        for i in range(ob.size):
            bs = add_reassoc(bs, np.float64(widen(ob[i])))
        t, e = two_sum(acc[0, k], bs)
        acc[0, k] = t
        acc[1, k] += e


@njit(**_OPTIONS)
def accumulate_rows(o, acc, s, ra, rb, c, e, r0, d, q, sq, sn):
    """:func:`accumulate` the chunks ``c:e`` of rows ``ra:rb`` of ``o`` (row ``r`` at ``r * s``;
    its bias at ``((r0 + r) // d % q) * sq``, as a bias loop's geometry). Four rows that share
    their run of bias elements (``sn == 1``, float32 or bfloat16) are first added to one another
    in float64, ``(o0 + o1) + (o2 + o3)``, and that into the sums, which are then read and
    written once for the four rows (two roundings more per four terms: the bound of
    :func:`accumulate` holds)."""
    r = ra
    while r < rb:
        k = ((r0 + r) // d % q) * sq
        if (sn and o.itemsize != 8 and r + 4 <= rb
                and (q == 1 or (r0 + r) // d == (r0 + r + 3) // d)):
            _add_rows4(o[r * s + c:r * s + e], o[(r + 1) * s + c:(r + 1) * s + e],
                       o[(r + 2) * s + c:(r + 2) * s + e], o[(r + 3) * s + c:(r + 3) * s + e],
                       acc[0, k + c:k + e])
            r += 4
        else:
            accumulate(o[r * s + c:r * s + e], acc, k + c * sn, sn)
            r += 1


@njit(**_OPTIONS)
def _add_rows4(o0, o1, o2, o3, t):
    for i in range(t.size):
        t[i] += ((np.float64(widen(o0[i])) + np.float64(widen(o1[i])))
                 + (np.float64(widen(o2[i])) + np.float64(widen(o3[i]))))
