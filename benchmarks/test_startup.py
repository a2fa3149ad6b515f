"""Start-up costs, each in a fresh process: import, cold JIT compile, first call with a warm cache.

The timed function is the whole child process; the child reports its own ``import fastact`` time
and the time of its first ``fastact.relu`` / ``fastact.gelu`` call on a float32 array, which the
report reads from ``extra_info``.

The child caches bytecode as Python does by default: ``PYTHONDONTWRITEBYTECODE`` is dropped from
its environment (the build machines of this project set it, and with it every import compiled
fastact's sources again, which no user's machine does after the first import; the cost is in
docs/benchmarks.md). The cold case is a cold Numba cache, not cold bytecode.
"""

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import json, time
t0 = time.perf_counter()
import fastact
t1 = time.perf_counter()
import numpy as np
x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
t2 = time.perf_counter(); fastact.relu(x); t3 = time.perf_counter()
fastact.gelu(x); t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_relu_s": t3 - t2, "first_gelu_s": t4 - t3}))
"""


def _child(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_startup(benchmark, cache, tmp_path_factory):
    cache_dir = tmp_path_factory.getbasetemp() / "numba-cache"
    if cache == "warm":
        _child(cache_dir)  # populate the cache; the timed runs then load from it
    reports = []

    def run():
        if cache == "cold":  # an empty cache dir each round: everything compiles
            d = tmp_path_factory.mktemp("cold-cache")
            reports.append(_child(d))
        else:
            reports.append(_child(cache_dir))

    benchmark.pedantic(run, rounds=3, iterations=1)
    benchmark.group = "startup"
    benchmark.name = f"process, {cache} cache"
    med = {k: sorted(r[k] for r in reports)[len(reports) // 2] for k in reports[0]}
    benchmark.extra_info.update({"variant": "startup", "impl": f"startup:{cache}", **med})
