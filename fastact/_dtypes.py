"""The dtype rules of the public functions: which dtype a call computes in and returns.

bfloat16 is ml_dtypes' (what JAX uses): a dtype NumPy stores but does not compute in. fastact
knows it by name and does not import ml_dtypes for it (an array of it means its user did; only
fastact.torch imports it, to show a torch.bfloat16 tensor to NumPy). It is computed in float32
and rounded to bfloat16 once. The contiguous loops read and write it as its 16-bit words
(:func:`words`), widening and rounding each element as they go; other layouts go through
ml_dtypes' casts (the same rounding).
"""

from __future__ import annotations

import numpy as np

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


_SUPPORTED_FLOATS = (F16, F32, F64)

#: how the compiled loops see a bfloat16 array: its 16-bit words
WORD = np.dtype(np.uint16)


def is_bf16(dtype) -> bool:
    """Whether ``dtype`` is ml_dtypes.bfloat16."""
    return dtype.kind == "V" and dtype.name == "bfloat16"


def is_real(dtype) -> bool:
    """Whether fastact computes ``dtype``: a float (bfloat16 included), integer or bool."""
    return dtype.kind in "biuf" or is_bf16(dtype)


def storage(compute: np.dtype, result: np.dtype) -> np.dtype:
    """The dtype the compiled loops read and write for a call computing in ``compute`` and
    returning ``result``: bfloat16 itself (the loops widen and round each element), else the
    computing dtype (float16 goes through float32 copies)."""
    return result if is_bf16(result) else compute


def words(a):
    """``a`` as the compiled loops take it: a bfloat16 array's 16-bit words (a view), any other
    array (or None) itself."""
    return a.view(WORD) if a is not None and is_bf16(a.dtype) else a


#: the dtypes the compiled contiguous loops (the fast paths) take
LOOP_DTYPES = (F32, F64)


def refuse_dtype(name, dtype):
    raise TypeError(
        f"{name}: unsupported dtype {dtype}; fastact computes float16, float32, float64 and "
        "bfloat16 (ml_dtypes) (integers and bools are promoted to float64)"
    )


def dtypes(name: str, dtype: np.dtype, keeps_integers: bool) -> tuple[np.dtype, np.dtype]:
    """(compute dtype, result dtype) for an input dtype, or TypeError naming both.

    Non-native byte order is computed and returned in native order (as NumPy's ufuncs do).
    """
    kind = dtype.kind
    if kind in "biuf" and not dtype.isnative:
        dtype = dtype.newbyteorder("=")
    if is_bf16(dtype):
        return F32, dtype
    if kind == "f":
        if dtype not in _SUPPORTED_FLOATS:
            refuse_dtype(name, dtype)
        return (F32, F16) if dtype == F16 else (dtype, dtype)
    if kind in "biu":
        return (dtype, dtype) if keeps_integers else (F64, F64)
    refuse_dtype(name, dtype)


def dtype_of(a) -> np.dtype:
    """The dtype of an operand: an array's (NumPy, dask, ...) or, for a scalar or a list, the
    one NumPy gives it."""
    return np.dtype(a.dtype) if hasattr(a, "dtype") else np.asarray(a).dtype


def common_dtypes(name: str, dts) -> tuple[np.dtype, np.dtype]:
    """(compute dtype, result dtype) of a call on operands of the dtypes ``dts``: NumPy's
    promotion of the dtypes (not of values; with bfloat16, ml_dtypes' promotion), integers and
    bools to float64; any operand of another kind refused, naming its dtype."""
    dts = [np.dtype(d) for d in dts]
    for dt in dts:
        if not is_real(dt):
            refuse_dtype(name, dt)
    return dtypes(name, np.result_type(*dts), False)
