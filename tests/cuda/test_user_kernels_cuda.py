"""A user's own ``@cuda.jit`` kernel calling fastact.kernels: a fused bias + GELU (forward and
gradient) and a kernel with parameters, float32 and float64, against fastact's CPU backend.

On the simulator the user's kernel runs the same CPU code, so the results must be the same bits;
on a GPU, within ``TOL_ULP`` (another compiler may contract other products into FMAs)."""

import numpy as np
import pytest
from numba import cuda

import fastact
from fastact import kernels as K
from fastact.backends import cuda as cuda_backend

from .test_cuda import TOL_ULP, assert_matches, inputs

SIM = cuda_backend.simulated()
TOL = 0 if SIM else TOL_ULP

K.register_cuda()  # the kernels' float32/float64 forms, for numba.cuda (a GPU needs it)


@cuda.jit
def bias_gelu(x, b, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = K.gelu(x[i] + b[i % b.size])


@cuda.jit
def bias_gelu_grad(g, x, b, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = K.gelu_grad(g[i], x[i] + b[i % b.size])


@cuda.jit
def softplus(x, beta, threshold, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = K.softplus(x[i], beta, threshold)


def _run(kern, *arrays_then_scalars, n):
    out = cuda.device_array(n, arrays_then_scalars[0].dtype)
    args = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in arrays_then_scalars]
    kern[4, 32](*args, out)
    return out.copy_to_host()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_user_cuda_kernel_bias_gelu(dtype):
    x = inputs(dtype)
    b = np.linspace(-1, 1, 7).astype(dtype)
    xb = x + np.resize(b, x.size)
    got = _run(bias_gelu, x, b, n=x.size)
    assert_matches(got, fastact.gelu(xb, backend="cpu"), TOL, f"user bias_gelu {dtype}")
    g = np.roll(x, 3)
    got = _run(bias_gelu_grad, g, x, b, n=x.size)
    assert_matches(got, fastact.gelu_grad(g, xb, backend="cpu"), TOL, f"user gelu_grad {dtype}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_user_cuda_kernel_with_parameters(dtype):
    x = inputs(dtype)
    got = _run(softplus, x, dtype(0.7), dtype(15.0), n=x.size)
    assert_matches(got, fastact.softplus(x, 0.7, 15.0, backend="cpu"), TOL,
                   f"user softplus {dtype}")
