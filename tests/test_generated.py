"""Generated files are up to date (``make gen``), and the documentation generators work.

The loops' check is in tests/test_simd.py and the README analysis table's in tests/test_tools.py;
this file checks the docs generator (tools/gen_docs.py) and that every generator ``make gen`` runs
is checked by some test.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fastact
from fastact.registry import AXISWISE, GATED

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import gen_docs  # noqa: E402


def _gen_commands():
    """The tools/*.py scripts the Makefile's ``gen`` target runs."""
    text = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^gen:.*?\n((?:\t.*\n)+)", text, re.M)
    assert recipe, "the Makefile has no gen target"
    return re.findall(r"tools/(\w+)\.py", recipe.group(1))


def test_make_gen_runs_every_generator_and_each_is_checked_by_a_test():
    scripts = _gen_commands()
    generators = sorted(p.stem for p in (ROOT / "tools").glob("gen_*.py"))
    assert sorted(scripts) == generators, "make gen must run every tools/gen_*.py"
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for script in scripts:
        assert "--check" in (ROOT / "tools" / f"{script}.py").read_text(), script
        assert re.search(rf"import {script}\b[\s\S]*?{script}\.main\(\[\"--check\"\]\)", tests), (
            f"no test runs tools/{script}.py --check")


def test_docs_and_readme_tables_are_up_to_date(capsys):
    assert gen_docs.main(["--check"]) == 0, capsys.readouterr().out + "run: make gen"


def test_check_names_a_stale_page_and_a_page_without_an_activation(tmp_path, monkeypatch, capsys):
    pages = tmp_path / "activations"
    shutil.copytree(gen_docs.PAGES, pages)
    (pages / "relu.md").write_text("edited by hand\n")
    (pages / "relu7.md").write_text("an activation the registry does not have\n")
    monkeypatch.setattr(gen_docs, "PAGES", pages)
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    monkeypatch.setattr(gen_docs, "BLOCKS", {})
    assert gen_docs.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "activations/relu.md is out of date" in out
    assert "activations/relu7.md should be deleted" in out
    assert "sigmoid.md" not in out
    assert gen_docs.main([]) == 0
    assert not (pages / "relu7.md").exists()
    assert gen_docs.main(["--check"]) == 0


def test_a_block_without_its_markers_is_an_error():
    with pytest.raises(SystemExit, match="README.md has no .*activations"):
        gen_docs.with_block("no markers here\n", "activations", "table", ROOT / "README.md")


def test_every_activation_has_a_page_with_its_formulas_and_plot():
    catalog = (gen_docs.PAGES / "index.md").read_text()
    for name, spec in fastact.ACTIVATIONS.items():
        text = (gen_docs.PAGES / f"{name}.md").read_text()
        assert f"# {name}\n\n{spec.summary}" in text
        if spec.kind == GATED:  # two inputs: f(a, b) and its partial derivatives
            assert f"f(a, b) = {spec.formula}" in text and spec.derivative in text
        elif spec.kind == AXISWISE:  # a row's result and the gradient of the row
            assert f"= {spec.formula}" in text and f"\\bar x_i = {spec.derivative}" in text
            assert spec.result_derivative in text
        else:
            assert f"f(x) = {spec.formula}" in text and f"f'(x) = {spec.derivative}" in text
        if spec.kind != AXISWISE:  # axis-wise activations have no curve to plot
            assert f"](plots/{name}.png)" in text
        assert spec.kinks in text
        if spec.result_grad is not None:
            assert spec.result_derivative in text
        assert f"[`{name}`]({name}.md)" in catalog


def test_readme_table_has_a_row_per_activation_from_the_registry():
    text = (ROOT / "README.md").read_text()
    block = text.split(gen_docs.start_marker("activations"))[1].split(gen_docs.END)[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == list(fastact.ACTIVATIONS)
    for row, spec in zip(rows, fastact.ACTIVATIONS.values(), strict=True):
        assert gen_docs._cell(spec.kinks) in row


def test_accuracy_data_covers_the_catalog():
    """Every activation has a measured row (``make accuracy`` after adding one); the exhaustive
    data file says where its figures come from."""
    sampled = json.loads(gen_docs.ACCURACY_JSON.read_text())
    assert {"command", "machine", "commit", "rows"} <= set(sampled)
    measured = {r["activation"] for r in sampled["rows"]}
    missing = set(fastact.ACTIVATIONS) - measured
    assert not missing, f"no accuracy measurement for {sorted(missing)}: run make accuracy"
    for r in sampled["rows"]:
        bound = fastact.ACTIVATIONS[r["activation"]].accuracy_ulp
        if bound:  # the exact ones are checked bit for bit by the tests, not in ULP
            assert r["float32"]["forward"] <= bound and r["float32"]["grad"] <= bound, r
        assert r["float64"]["forward"] <= 16 and r["float64"]["grad"] <= 16, r
    swept = json.loads(gen_docs.EXHAUSTIVE_JSON.read_text())
    runs = {run["id"] for run in swept["runs"]}
    assert all(run.get("command") for run in swept["runs"])
    assert all(r["run"] in runs and r["activation"] in fastact.ACTIVATIONS for r in swept["rows"])


def test_docs_hook_lists_every_activation_and_draws_its_plot():
    import mkdocs_hooks

    config = {"nav": [{"Home": "index.md"}, {"Activations": ["activations/index.md",
                                                             {"relu": "activations/relu.md"}]}]}
    pages = mkdocs_hooks.on_config(config)["nav"][1]["Activations"]
    listed = [p if isinstance(p, str) else next(iter(p.values())) for p in pages]
    assert listed == ["activations/index.md",
                      *(f"activations/{name}.md" for name in fastact.ACTIVATIONS)]
    pytest.importorskip("matplotlib")
    assert mkdocs_hooks.plot_png("prelu")[:8] == b"\x89PNG\r\n\x1a\n"  # a required parameter


def test_docs_site_builds(tmp_path):
    """``mkdocs build --strict`` (where the docs extra is installed: make docs)."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module)
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(site)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    page = (site / "activations" / "gelu" / "index.html").read_text()
    assert 'class="arithmatex"' in page and r"\Phi(x)" in page
    assert 'src="../plots/gelu.png"' in page
    assert (site / "activations" / "plots" / "gelu.png").read_bytes()[:4] == b"\x89PNG"
    api = (site / "api" / "index.html").read_text()
    assert 'id="fastact.gelu_grad"' in api and 'id="kernels.rectifier.relu"' in api
