"""Bit-level helpers for the vectorizable math: FMA, exact powers of two, exponent extraction.

Numba has no scalar bit casts and no FMA, and AVX2 has no double <-> int64 conversions (a loop that
uses one is not vectorized). These intrinsics emit the few LLVM instructions directly: integer
add/shift on the float's bits, with integers carried as "shifted" floats (``k + 1.5 * 2**mant``,
whose low bits are ``k``), so every operation has a SIMD form for float32 and float64 alike.
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

#: per float width: (integer type, mantissa bits, exponent bias, 1.5 * 2**mantissa bits)
_LAYOUT = {32: (ir.IntType(32), 23, 127, 12582912.0), 64: (ir.IntType(64), 52, 1023,
                                                              6755399441055744.0)}

#: The "shifter": adding it to a float of magnitude < 2**(mant-1) rounds it to an integer that
#: the sum's low bits hold. Kernels use it as ``(t + SHIFTER) - SHIFTER == round(t)``.
SHIFTER32 = _LAYOUT[32][3]
SHIFTER64 = _LAYOUT[64][3]


def _layout(ty):
    if not isinstance(ty, types.Float):
        raise TypeError(f"expected float32 or float64, got {ty}")
    return _LAYOUT[ty.bitwidth]


def _int_of_shifted(builder, kf, ity, shifter):
    """The integer k held by kf = k + shifter."""
    return builder.sub(builder.bitcast(kf, ity), ity(_bits_of(shifter, ity.width)))


def _bits_of(value: float, width: int) -> int:
    import struct

    if width == 32:
        return struct.unpack("<i", struct.pack("<f", value))[0]
    return struct.unpack("<q", struct.pack("<d", value))[0]


def _pow2(builder, k, ity, mant, bias, fty):
    return builder.bitcast(builder.shl(builder.add(k, ity(bias)), ity(mant)), fty)


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c with a single rounding (llvm.fma: one instruction on FMA hardware)."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        fty = args[0].type
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(fty, [fty, fty, fty]), f"llvm.fma.{fty.intrinsic_name}"
        )
        return builder.call(fn, args)

    return a(a, a, a), codegen


@intrinsic
def scale_pow2(typingctx, p, kf):
    """p * 2**k where kf = k + SHIFTER; rounded once, also into the subnormal range.

    2**k is applied as two factors 2**(k//2) and 2**(k - k//2), each a normal number for
    |k| < 2 * bias, so ``(p * s1) * s2`` is exact until its final rounding.
    """
    if not (p == kf and isinstance(p, types.Float)):
        return None
    ity, mant, bias, shifter = _layout(p)

    def codegen(context, builder, sig, args):
        pv, kv = args
        k = _int_of_shifted(builder, kv, ity, shifter)
        k1 = builder.ashr(k, ity(1))
        k2 = builder.sub(k, k1)
        s1 = _pow2(builder, k1, ity, mant, bias, pv.type)
        s2 = _pow2(builder, k2, ity, mant, bias, pv.type)
        return builder.fmul(builder.fmul(pv, s1), s2)

    return p(p, p), codegen


def _has_scalef(context):
    """Whether the code being compiled is for a CPU with AVX-512F (the target machine's features,
    which also key Numba's cache): there ``llvm.ldexp`` is ``vscalef``. Never for numba.cuda."""
    features = getattr(context.codegen(), "_tm_features", None) or ""
    return "+avx512f" in features.split(",")


#: per float width: the bias B of :func:`scale_pow2_neg` (2**(k + B) is normal for k in
#: [-(bias - 1) - B, bias - B]: [-248, 5] float32, [-2040, 5] float64)
_NEG_BIAS = {32: 122, 64: 1018}


@intrinsic
def scale_pow2_neg(typingctx, p, kf):
    """p * 2**k where kf = k + SHIFTER, for k <= 5 (and k >= -247 float32, -2039 float64, so
    that ``p`` in [0.5, 2) stays normal on the way): rounded once, also into the subnormals.

    ``scale_pow2`` for the many callers whose k is never large (``exp`` of a non-positive
    argument): ``(p * 2**(k + B)) * 2**-B`` with a fixed B, so ``2**(k + B)`` is one integer add
    and one shift of kf's bits, where ``scale_pow2``'s two data-dependent factors take five
    integer operations more (4 vector operations instead of 9). The result is the same:
    ``p * 2**(k + B)`` is exact, the product by ``2**-B`` rounds once. Compiled for a CPU with
    AVX-512, it is ``llvm.ldexp`` instead, which becomes ``vscalefps``/``vscalefpd`` (3 vector
    operations, one of them on the FMA ports where the above has two multiplications; the same
    correctly rounded result). Elsewhere ``llvm.ldexp``
    would be a libm call.
    """
    if not (p == kf and isinstance(p, types.Float)):
        return None
    ity, mant, bias, shifter = _layout(p)
    b = _NEG_BIAS[ity.width]

    def codegen(context, builder, sig, args):
        pv, kv = args
        if _has_scalef(context):  # one instruction: vscalef (after a conversion of k)
            i32 = ir.IntType(32)
            k = _int_of_shifted(builder, kv, ity, shifter)
            k = builder.trunc(k, i32) if ity.width > 32 else k
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(pv.type, [pv.type, i32]),
                f"llvm.ldexp.{pv.type.intrinsic_name}.i32")
            return builder.call(fn, [pv, k])
        offset = bias + b - _bits_of(shifter, ity.width)  # k + B + bias from kf's bits
        e = builder.add(builder.bitcast(kv, ity), ity(offset))
        s = builder.bitcast(builder.shl(e, ity(mant)), pv.type)
        return builder.fmul(builder.fmul(pv, s), ir.Constant(pv.type, 2.0 ** -b))

    return p(p, p), codegen


def _split_sqrt2(builder, u, ity, mant, bias):
    """(integer exponent k, mantissa bits) with u = m * 2**k, m in [sqrt(2)/2, sqrt(2))."""
    width = ity.width
    half_sqrt2 = _bits_of(0.7071067811865476 if width == 64 else 0.70710677, width)
    one = _bits_of(1.0, width)
    ix = builder.add(builder.bitcast(u, ity), ity(one - half_sqrt2))
    k = builder.sub(builder.ashr(ix, ity(mant)), ity(bias))
    mbits = builder.add(builder.and_(ix, ity((1 << mant) - 1)), ity(half_sqrt2))
    return k, mbits


@intrinsic
def mantissa_sqrt2(typingctx, u):
    """m in [sqrt(2)/2, sqrt(2)) with u = m * 2**k, for a positive normal u."""
    if not isinstance(u, types.Float):
        return None
    ity, mant, bias, _ = _layout(u)

    def codegen(context, builder, sig, args):
        _, mbits = _split_sqrt2(builder, args[0], ity, mant, bias)
        return builder.bitcast(mbits, args[0].type)

    return u(u), codegen


@intrinsic
def exponent_sqrt2(typingctx, u):
    """k (as a float) with u = m * 2**k, m in [sqrt(2)/2, sqrt(2)), for a positive normal u."""
    if not isinstance(u, types.Float):
        return None
    ity, mant, bias, shifter = _layout(u)

    def codegen(context, builder, sig, args):
        k, _ = _split_sqrt2(builder, args[0], ity, mant, bias)
        # int -> float without cvtqq2pd (absent on AVX2): through the shifter's bits
        kf = builder.bitcast(builder.add(k, ity(_bits_of(shifter, ity.width))), args[0].type)
        return builder.fsub(kf, ir.Constant(args[0].type, shifter))

    return u(u), codegen


@intrinsic
def freeze(typingctx, x):
    """``x`` itself, through LLVM's ``freeze``: a value the optimizer cannot trace to its load.

    The in-place loops write ``x[i] = f(freeze(x[i]))``. Without it, LLVM sees that a kernel such
    as relu stores back the value it just loaded on one side of its select, drops that store, and
    vectorizes the rest as a *masked* store (``vmaskmovps``: microcoded on AMD, several times
    slower than the plain store it makes instead).
    """
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, sig, args):
        value = args[0]
        inst = ir.instructions.Instruction(builder.block, value.type, "freeze", [value])
        builder._insert(inst)  # llvmlite has no IRBuilder.freeze
        return inst

    return x(x), codegen


@intrinsic
def sign_select(typingctx, s, a, b):
    """``a`` where the sign bit of ``s`` is set (``s < 0``, ``-0.0``), else ``b``.

    A test of the sign bit alone is what ``vblendvps`` reads from its mask register: the select
    costs one blend and no comparison (``a if s < 0 else b`` needs a ``vcmpps`` first, on the same
    two ports as the FMAs of a port-bound kernel such as float32 ``silu_grad``).
    """
    if not (s == a == b and isinstance(s, types.Float)):
        return None
    ity = _layout(s)[0]

    def codegen(context, builder, sig, args):
        sv, av, bv = args
        negative = builder.icmp_signed("<", builder.bitcast(sv, ity), ity(0))
        return builder.select(negative, av, bv)

    return s(s, s, s), codegen


@intrinsic
def add_reassoc(typingctx, a, b):
    """``a + b`` with LLVM's ``reassoc`` flag on this one addition: a loop that accumulates with
    it is vectorized as a reduction into several partial sums (the loops are compiled without
    ``reassoc``, which would also reorder the error-free transformations around it)."""
    if not (a == b and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        inst = ir.instructions.Instruction(builder.block, args[0].type, "fadd", list(args),
                                           flags=["reassoc", "contract"])
        builder._insert(inst)
        return inst

    return a(a, b), codegen


@intrinsic
def maximum(typingctx, a, b):
    """The larger of ``a`` and ``b``, NaN if either is (``llvm.maximum``): a loop reducing with it
    is vectorized, and a NaN anywhere in the row reaches the result."""
    if not (a == b and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        fty = args[0].type
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(fty, [fty, fty]),
                                            f"llvm.maximum.{fty.intrinsic_name}")
        return builder.call(fn, args)

    return a(a, b), codegen


@intrinsic
def select(typingctx, c, a, b):
    """``a`` if ``c`` else ``b`` as one LLVM ``select`` (no branch: Numba's inliner leaves no
    control flow behind, and a masked loop stays vectorizable)."""
    if not (isinstance(c, types.Boolean) and a == b):
        return None

    def codegen(context, builder, sig, args):
        cv, av, bv = args
        return builder.select(context.cast(builder, cv, sig.args[0], types.boolean), av, bv)

    return a(c, a, b), codegen


# -- bfloat16: the upper 16 bits of a float32, held in NumPy as ml_dtypes.bfloat16 -------------
#
# Numba cannot type an ml_dtypes array, so the loops receive a bfloat16 array as its 16-bit words
# (a uint16 view): ``widen`` turns a loaded element into the float32 the kernels compute in, and
# ``narrow`` turns the kernel's float32 result into the element stored. For float arrays both are
# the identity, so one loop source serves float32, float64 and bfloat16.

#: the bits of a float32 below a bfloat16's: a float32 is rounded to bfloat16 by adding
#: ``BF16_HALF`` plus the kept part's lowest bit (ties to even) and dropping these 16 bits
BF16_SHIFT, BF16_HALF = 16, 0x7FFF
#: the quiet NaN a NaN becomes (its sign kept), as ml_dtypes and torch round NaN
BF16_QNAN = 0x7FC0


@intrinsic
def bf16_to_f32(typingctx, u):
    """The float32 value of the bfloat16 whose 16-bit word is ``u`` (exact: a shift)."""
    if not (isinstance(u, types.Integer) and u.bitwidth == 16):
        return None

    def codegen(context, builder, sig, args):
        i32 = ir.IntType(32)
        wide = builder.shl(builder.zext(args[0], i32), i32(BF16_SHIFT))
        return builder.bitcast(wide, ir.FloatType())

    return types.float32(u), codegen


@intrinsic
def f32_to_bf16(typingctx, v):
    """The 16-bit word of float32 ``v`` rounded to bfloat16: to nearest, ties to even; an
    overflow gives inf, a subnormal rounds as any value, NaN gives the quiet NaN (sign kept)."""
    if v != types.float32:
        return None

    def codegen(context, builder, sig, args):
        i32, i16 = ir.IntType(32), ir.IntType(16)
        bits = builder.bitcast(args[0], i32)
        high = builder.lshr(bits, i32(BF16_SHIFT))
        lsb = builder.and_(high, i32(1))
        rounded = builder.lshr(builder.add(bits, builder.add(lsb, i32(BF16_HALF))),
                               i32(BF16_SHIFT))
        nan = builder.or_(builder.and_(high, i32(0x8000)), i32(BF16_QNAN))
        isnan = builder.fcmp_unordered("uno", args[0], args[0])
        return builder.trunc(builder.select(isnan, nan, rounded), i16)

    return types.uint16(v), codegen


def widen(v):
    """A loaded element as the kernels take it: a float itself, a bfloat16 word as float32."""


@overload(widen, inline="always")
def _widen(v):
    if isinstance(v, types.Float):
        return lambda v: v
    if v == types.uint16:
        return lambda v: bf16_to_f32(v)
    return None


def narrow(a, v):
    """The kernel's result ``v`` as an element of array ``a``: ``v`` itself for a float array, its
    bfloat16 word for a bfloat16 array (a uint16 view). A kernel that computes a float32 input in
    float64 gives the float64 value: it is rounded to float32 first, as a float32 array stores
    it, so a bfloat16 result is always the float32 result rounded once more."""


@overload(narrow, inline="always")
def _narrow(a, v):
    if not isinstance(a, types.Array):
        return None
    if a.dtype == types.uint16:
        if v == types.float64:
            return lambda a, v: f32_to_bf16(np.float32(v))
        return lambda a, v: f32_to_bf16(v)
    return lambda a, v: v
