"""analyze, dead_fraction, plot, the command line, the NumPy MLP example, and the README's and
docstrings' examples."""

import doctest
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastact
from fastact import ufuncs

from .reference import ELEMENTWISE

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, timeout=240):
    return subprocess.run([sys.executable, "-m", "fastact.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


# -- analyze / dead_fraction ----------------------------------------------------------------------


def test_analyze_relu():
    a = fastact.analyze("relu")
    assert a.lipschitz == 1.0
    assert a.vanishing_fraction == pytest.approx(0.5, abs=1e-3)  # x <= 0, relu'(0) = 0
    assert a.exploding_fraction == 0.0
    assert a.monotonic and not a.zero_centered
    assert a.output_range == (0.0, 5.0)


def test_analyze_shapes_and_parameters():
    assert fastact.analyze("tanh").zero_centered
    assert not fastact.analyze("sigmoid").zero_centered
    assert fastact.analyze("sigmoid").lipschitz == pytest.approx(0.25)
    assert not fastact.analyze("silu").monotonic  # the dip at x = -1.28
    selu_slope_at_0_minus = 1.0507009873554805 * 1.6732632423543772
    assert fastact.analyze("selu").lipschitz == pytest.approx(selu_slope_at_0_minus, rel=1e-3)
    leaky = fastact.analyze("leaky_relu", negative_slope=0.2)
    assert leaky.vanishing_fraction == 0.0 and leaky.output_range[0] == pytest.approx(-1.0)
    assert fastact.analyze("hardsigmoid", lo=-1, hi=1, n=11).vanishing_fraction == 0.0
    narrow = fastact.analyze("tanh", lo=4.0, hi=10.0)
    assert narrow.vanishing_fraction > 0.5  # tanh saturates: tanh'(x) < 1e-3 from x ~ 4.15
    assert fastact.analyze("prelu").params == {"weight": 0.25}
    with pytest.raises(ValueError, match="unknown activation"):
        fastact.analyze("relu7")
    with pytest.raises(ValueError, match="lo < hi"):
        fastact.analyze("relu", lo=1.0, hi=-1.0)
    with pytest.raises(ValueError, match="n must be"):
        fastact.analyze("relu", n=1)
    with pytest.raises(TypeError):
        fastact.analyze("relu", alpha=2.0)


def test_dead_fraction():
    h = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 0.0]])
    assert fastact.dead_fraction(h) == 0.5  # units 0 and 3 never fire
    assert fastact.dead_fraction(h, axis=1) == 0.0
    assert fastact.dead_fraction(fastact.relu(-np.ones((5, 3)))) == 1.0
    with pytest.raises(ValueError, match="scalar"):
        fastact.dead_fraction(0.0)


# -- plot ------------------------------------------------------------------------------------------


def test_plot_returns_a_figure_and_saves_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "act.png"
    fig = fastact.plot(["relu", "gelu"], path=path)
    ax = fig.axes[0]
    assert len(ax.lines) == 4  # two functions, two derivatives
    assert ax.spines["left"].get_position() in ("zero", ("data", 0.0))  # axes through 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig2 = fastact.plot("tanh", derivative=False)
    assert len(fig2.axes[0].lines) == 1
    with pytest.raises(ValueError, match="unknown activation"):
        fastact.plot(["relu", "nope"])


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"fastact\[plot\]"):
        fastact.plot("relu")


# -- command line ---------------------------------------------------------------------------------


def test_cli_analyze():
    r = _cli("analyze", "relu")
    assert r.returncode == 0, r.stderr
    assert "lipschitz            1.0" in r.stdout and "monotonic            True" in r.stdout
    r = _cli("analyze", "leaky_relu", "--param", "negative_slope=0.2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["params"] == {"negative_slope": 0.2}
    r = _cli("analyze", "relu7")
    assert r.returncode == 2 and "unknown activation 'relu7'" in r.stderr and "gelu" in r.stderr
    r = _cli("analyze", "relu", "--param", "oops")
    assert r.returncode == 2 and "k=v" in r.stderr
    assert _cli("analyze", "--help").returncode == 0


def test_cli_plot(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out.png"
    r = _cli("plot", "relu", "gelu", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.stat().st_size > 1000
    r = _cli("plot", "relu", "frelu", "-o", str(out))
    assert r.returncode == 2 and "unknown activation 'frelu'" in r.stderr
    assert _cli("plot").returncode == 2  # NAME and -o are required


def test_cli_bench_and_warmup():
    r = _cli("bench", "--sizes", "1e3", "--budget", "0.005")
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith(("relu ", "silu "))]
    assert len(rows) == 4 and all("1e3" in line for line in rows)
    r = _cli("warmup", "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("compiled or loaded")
    for cmd in ("info", "tune", "warmup", "bench", "plot", "analyze"):
        assert _cli(cmd, "--help").returncode == 0


# -- the MLP example ------------------------------------------------------------------------------


def _mlp():
    spec = importlib.util.spec_from_file_location("mlp_numpy", ROOT / "examples" / "mlp_numpy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_example_trains():
    mlp = _mlp()
    history = mlp.train(epochs=3, n=600, echo=lambda *_: None)
    assert len(history) == 3
    assert history[-1]["loss"] < history[0]["loss"]
    assert 0.0 <= history[-1]["dead_fraction"] <= 1.0


def test_mlp_example_gradients_match_finite_differences():
    mlp = _mlp()
    X, y = mlp.two_spirals(40, seed=3)
    X = X.astype(np.float64)
    y = y.astype(np.float64)
    p = mlp.init(hidden=6, seed=4, dtype=np.float64)
    p["a1"] = np.linspace(0.1, 0.4, 6)  # distinct slopes: each is learned separately
    _, _, grads, _ = mlp.loss_and_grads(p, X, y)
    h = 1e-6
    for key in ("W1", "a1", "W2", "b2", "W3"):
        flat = p[key].reshape(-1)
        for i in range(min(flat.size, 6)):
            old = flat[i]
            flat[i] = old + h
            up = mlp.loss_and_grads(p, X, y)[0]
            flat[i] = old - h
            down = mlp.loss_and_grads(p, X, y)[0]
            flat[i] = old
            assert grads[key].reshape(-1)[i] == pytest.approx((up - down) / (2 * h),
                                                              rel=1e-5, abs=1e-8), (key, i)


def test_mlp_example_command_line():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "mlp_numpy.py"), "--epochs", "3"],
                       capture_output=True, text=True, timeout=240,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == 3 and "accuracy" in lines[0] and "dead ReLU units" in lines[0]


def test_readme_analysis_table_is_up_to_date():
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_analysis

    assert gen_analysis.main(["--check"]) == 0, "run: python tools/gen_analysis.py"


# -- the README's and the docstrings' examples: here, late in a run, the loops they call are
# mostly compiled and cached by the other test files ---------------------------------------------


def test_docstrings_run():
    """The generated docstrings' examples are doctests: run them."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    objs = [getattr(fastact, n) for n in ELEMENTWISE] + [
        fastact.derivative, fastact.explain, fastact.use_backend, fastact, ufuncs]
    ran = 0
    for obj in objs:
        for test in finder.find(obj, globs={"fastact": fastact, "np": np}):
            result = runner.run(test)
            assert result.failed == 0, test.name
            ran += result.attempted
    assert ran >= len(ELEMENTWISE)
    for name in ELEMENTWISE:
        doc = getattr(fastact, name).__doc__
        assert ".. math::" in doc and "Convention:" in doc and ">>>" in doc


def test_readme_example_runs():
    """The README's usage example runs as written."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    ran = 0
    for code in blocks:
        # the examples of optional integrations run where their library is installed (CI)
        needs = set(re.findall(r"^\s*(?:import|from) (torch|sklearn|dask)\b", code, flags=re.M))
        if any(importlib.util.find_spec(m) is None for m in needs):
            continue
        exec(compile(code, "README.md", "exec"), {})
        ran += 1
    assert ran >= 3
