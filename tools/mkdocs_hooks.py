"""MkDocs hooks for the documentation site (mkdocs.yml names this file).

- ``on_config``: the nav's "Activations" section lists every activation page, in the registry's
  order, so a new entry needs no edit of mkdocs.yml;
- ``on_files``: draws each activation's plot (f and f', ``fastact.plot``) into the site as
  ``activations/plots/<name>.png``. Plots are made here, at build time, because matplotlib's PNG
  bytes are not stable across versions: nothing drawn is committed or checked for staleness.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gen_docs  # noqa: E402  (tools/: MkDocs puts the hook's folder on sys.path while loading it)

ACTIVATIONS_SECTION = "Activations"


def _registry():
    import fastact

    return fastact.ACTIVATIONS


def on_config(config):
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and ACTIVATIONS_SECTION in entry:
            pages = entry[ACTIVATIONS_SECTION]
            listed = {p if isinstance(p, str) else next(iter(p.values())) for p in pages}
            for name in _registry():
                path = f"activations/{name}.md"
                if path not in listed:
                    pages.append({name: path})
    return config


def plot_png(name: str) -> bytes:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    import fastact

    spec = _registry()[name]
    params = gen_docs.plot_params(spec)
    fig = fastact.plot(name, derivative=True, params={name: params} if params else None)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def on_files(files, config):
    from mkdocs.structure.files import File

    for name, spec in _registry().items():
        if spec.reduction:  # axis-wise: no curve of one element to plot
            continue
        files.append(File.generated(config, f"activations/plots/{name}.png",
                                    content=plot_png(name)))
    return files
