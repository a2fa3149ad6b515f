"""CUDA kernels of the axis-wise activations (imported only by fastact.backends.cuda).

The geometry is the CPU loops' ``(outer, L, inner)`` (see ``_axis_loops``): a *line* is the L
elements of one reduction, ``inner`` apart. Two launch shapes:

- ``*_lines``: a thread per line (grid-stride). Where the reduced axis is not the last
  (``inner > 1``) neighbouring threads read neighbouring columns, so every load is coalesced;
- ``softmax_rows`` / ``logsumexp_rows``: a block per row for the last axis (``inner == 1``): the
  block's threads stride over the row, and the maximum and the sums are reduced in shared
  memory (a tree over the block).

The math is fastact.kernels' (``exp_shifted``, the element maps): the same results as the CPU
loops up to the order of the sums. Maxima use explicit comparisons (NaN sticks), sums TwoSum per
thread. ``mask`` is a bool array or, with ``masked`` False, a placeholder; ``ninf`` is -inf in
the data's dtype.
"""

import math

import numpy as np
from numba import config, cuda

from fastact import kernels as K
from fastact.kernels._math import two_sum

#: threads per block of the block-per-row kernels (a power of two: the tree reduction halves
#: it); 32 in the simulator, which runs a Python thread per CUDA thread
ROW_THREADS = 32 if config.ENABLE_CUDASIM else 128


@cuda.jit(device=True, inline=True)
def _value(x, i, sign, ninf, mask, masked):
    v = x[i] * sign
    if masked and not mask[i]:
        v = ninf
    return v


@cuda.jit(device=True, inline=True)
def _bigger(m, v):
    """The running maximum: v where it is larger or NaN; a NaN maximum stays."""
    return v if (v > m or v != v) and m == m else m


@cuda.jit(device=True, inline=True)
def _add(s, c, v):
    """(s, c) + v: the compensated sum (TwoSum's error into c)."""
    t, e = two_sum(s, v)
    return t, c + e


@cuda.jit(device=True, inline=True)
def _softmax_at(x, i, sign, ninf, mask, masked, log, m, q):
    """Element i of softmax (log: log_softmax) of a row with maximum m and ``q`` = 1/s or
    log(s); 0 (log: -inf) where masked out."""
    if masked and not mask[i]:
        return ninf if log else sign - sign
    if log:
        return K.log_softmax_term(x[i] * sign, m, q)
    return np.float64(K.exp_shifted(x[i] * sign, m)) * q


@cuda.jit(device=True, inline=True)
def _lse(m, rest):
    """m + log(1 + rest); the maximum itself where it is +-inf or NaN (torch's limits)."""
    return m if math.isinf(m) or math.isnan(m) else m + math.log1p(rest)


@cuda.jit(device=True)
def _line_stats(x, o, L, st, sign, ninf, mask, masked):
    """(maximum, rest): ``rest = sum(exp(x - m)) - 1``, the maxima counted apart."""
    m = ninf
    for r in range(L):
        m = _bigger(m, _value(x, o + r * st, sign, ninf, mask, masked))
    s, c, k = 0.0, 0.0, 0.0
    for r in range(L):
        v = _value(x, o + r * st, sign, ninf, mask, masked)
        if v == m:
            k += 1.0
        else:
            s, c = _add(s, c, np.float64(K.exp_shifted(v, m)))
    return m, ((k - 1.0) + s) + c if not math.isinf(m) else math.nan


@cuda.jit(device=True, inline=True)
def _line(t, L, inner):
    """(first element, stride) of line t."""
    o = t // inner
    return o * L * inner + (t - o * inner), inner


@cuda.jit(cache=True)
def softmax_lines(x, mask, y, outer, L, inner, sign, ninf, log, masked):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        m, rest = _line_stats(x, o, L, st, sign, ninf, mask, masked)
        q = math.log1p(rest) if log else 1.0 / (rest + 1.0)
        for r in range(L):
            y[o + r * st] = _softmax_at(x, o + r * st, sign, ninf, mask, masked, log, m, q)


@cuda.jit(cache=True)
def logsumexp_lines(x, mask, out, outer, L, inner, one, ninf, masked):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        m, rest = _line_stats(x, o, L, st, one, ninf, mask, masked)
        out[t] = _lse(m, rest)


@cuda.jit(cache=True)
def softmax_grad_lines(g, y, mask, dx, outer, L, inner, sign, log, masked):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        s, c = 0.0, 0.0
        for r in range(L):
            i = o + r * st
            if not (masked and not mask[i]):
                s, c = _add(s, c, np.float64(g[i]) if log else np.float64(g[i]) * y[i])
        dot = s + c
        for r in range(L):
            i = o + r * st
            if masked and not mask[i]:
                dx[i] = 0.0
            elif log:  # the kernels' terms, in float64
                dx[i] = np.float64(g[i]) - math.exp(np.float64(y[i])) * dot
            else:
                dx[i] = np.float64(y[i]) * (np.float64(g[i]) - dot) * sign


@cuda.jit(cache=True)
def softmax_grad_x_lines(g, x, mask, dx, outer, L, inner, sign, ninf, log, masked):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        m, rest = _line_stats(x, o, L, st, sign, ninf, mask, masked)
        inv = 1.0 / (rest + 1.0)
        s, c = 0.0, 0.0
        for r in range(L):
            i = o + r * st
            if not (masked and not mask[i]):
                p = np.float64(K.exp_shifted(x[i] * sign, m)) * inv
                s, c = _add(s, c, np.float64(g[i]) if log else np.float64(g[i]) * p)
        dot = s + c
        for r in range(L):
            i = o + r * st
            p = np.float64(K.exp_shifted(x[i] * sign, m)) * inv
            if masked and not mask[i]:
                dx[i] = 0.0
            elif log:
                dx[i] = np.float64(g[i]) - p * dot
            else:
                dx[i] = p * (np.float64(g[i]) - dot) * sign


@cuda.jit(cache=True)
def logsumexp_grad_lines(g, x, lse, mask, dx, outer, L, inner, masked):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        for r in range(L):
            i = o + r * st
            if masked and not mask[i]:
                dx[i] = 0.0
            else:
                dx[i] = K.logsumexp_grad_term(np.float64(g[t]), x[i], lse[t])


@cuda.jit(device=True)
def _sparsemax_tau(x, o, L, st):
    """As the CPU loops' ``_sparsemax_tau``: Michelot's iteration on one line."""
    mx = -math.inf
    for r in range(L):
        mx = _bigger(mx, np.float64(x[o + r * st]))
    if not math.isfinite(mx):  # NaN or +inf in the line, or only -inf
        return math.nan
    tau = -1.0
    for _ in range(L + 1):
        s, c, k = 0.0, 0.0, 0.0
        for r in range(L):
            z = np.float64(x[o + r * st]) - mx
            if z > tau:
                s, c = _add(s, c, z)
                k += 1.0
        new = ((s + c) - 1.0) / k
        if not new > tau:
            break
        tau = new
    return mx + tau


@cuda.jit(cache=True)
def sparsemax_lines(x, y, outer, L, inner):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        tau = _sparsemax_tau(x, o, L, st)
        for r in range(L):
            y[o + r * st] = K.sparsemax_term(x[o + r * st], tau)


@cuda.jit(cache=True)
def sparsemax_grad_lines(g, y, dx, outer, L, inner):
    for t in range(cuda.grid(1), outer * inner, cuda.gridsize(1)):
        o, st = _line(t, L, inner)
        s, c, k = 0.0, 0.0, 0.0
        for r in range(L):
            i = o + r * st
            if y[i] > 0 or y[i] != y[i]:
                s, c = _add(s, c, np.float64(g[i]))
                k += 1.0
        mean = (s + c) / k
        for r in range(L):
            i = o + r * st
            dx[i] = K.sparsemax_grad_term(g[i], y[i], mean)


# -- a block per row (inner == 1) ---------------------------------------------------------------


@cuda.jit(device=True)
def _block_stats(x, o, L, sign, ninf, mask, masked, sh_m, sh_s, sh_c):
    """(maximum, rest) of the row at o, reduced over the block in shared memory."""
    tid = cuda.threadIdx.x
    m = ninf
    for i in range(o + tid, o + L, ROW_THREADS):
        m = _bigger(m, _value(x, i, sign, ninf, mask, masked))
    sh_m[tid] = m
    cuda.syncthreads()
    half = ROW_THREADS // 2
    while half > 0:
        if tid < half:
            sh_m[tid] = _bigger(sh_m[tid], sh_m[tid + half])
        cuda.syncthreads()
        half //= 2
    m = sh_m[0]
    s, c, k = 0.0, 0.0, 0.0
    for i in range(o + tid, o + L, ROW_THREADS):
        v = _value(x, i, sign, ninf, mask, masked)
        if v == m:
            k += 1.0
        else:
            s, c = _add(s, c, np.float64(K.exp_shifted(v, m)))
    sh_s[tid] = s
    sh_c[tid] = c + k
    cuda.syncthreads()
    half = ROW_THREADS // 2
    while half > 0:
        if tid < half:
            t, d = two_sum(sh_s[tid], sh_s[tid + half])
            sh_s[tid] = t
            sh_c[tid] += sh_c[tid + half] + d
        cuda.syncthreads()
        half //= 2
    rest = (sh_c[0] - 1.0) + sh_s[0]  # sh_c: the counts of maxima and the compensations
    if math.isinf(m):
        rest = math.nan
    cuda.syncthreads()
    return m, rest


@cuda.jit(cache=True)
def softmax_rows(x, mask, y, rows, L, sign, ninf, log, masked):
    sh_m = cuda.shared.array(ROW_THREADS, dtype=x.dtype)
    sh_s = cuda.shared.array(ROW_THREADS, dtype=np.float64)
    sh_c = cuda.shared.array(ROW_THREADS, dtype=np.float64)
    for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        o = row * L
        m, rest = _block_stats(x, o, L, sign, ninf, mask, masked, sh_m, sh_s, sh_c)
        q = math.log1p(rest) if log else 1.0 / (rest + 1.0)
        for i in range(o + cuda.threadIdx.x, o + L, ROW_THREADS):
            y[i] = _softmax_at(x, i, sign, ninf, mask, masked, log, m, q)


@cuda.jit(cache=True)
def logsumexp_rows(x, mask, out, rows, L, one, ninf, masked):
    sh_m = cuda.shared.array(ROW_THREADS, dtype=x.dtype)
    sh_s = cuda.shared.array(ROW_THREADS, dtype=np.float64)
    sh_c = cuda.shared.array(ROW_THREADS, dtype=np.float64)
    for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        o = row * L
        m, rest = _block_stats(x, o, L, one, ninf, mask, masked, sh_m, sh_s, sh_c)
        if cuda.threadIdx.x == 0:
            out[row] = _lse(m, rest)
