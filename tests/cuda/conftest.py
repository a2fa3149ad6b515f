"""The CUDA suite runs on a real GPU, or on Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``,
which must be set before numba is imported: ``make test`` runs this directory in its own pytest
process). With neither, every test here is skipped, saying why."""

import pytest


def _why_not():
    from fastact.backends import cuda

    ok, why = cuda.usable()
    return None if ok else why


def pytest_collection_modifyitems(config, items):
    why = _why_not()
    if why is None:
        return
    skip = pytest.mark.skip(reason=f"no GPU and no simulator (NUMBA_ENABLE_CUDASIM=1): {why}")
    for item in items:
        if "tests/cuda/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
