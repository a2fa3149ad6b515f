"""The tuned profile: measured thresholds stored as JSON, one file per machine.

:mod:`fastact.tuning` measures the thresholds and writes the profile (``fastact tune``);
:mod:`fastact.dispatch` reads it here. The profile is JSON (never pickle), in the user cache
directory, named by a fingerprint of the machine (CPU model, usable CPUs, Numba version): a
profile written on another machine or by another Numba is ignored with a warning, and so is a
corrupted one. ``FASTACT_PROFILE=path`` reads (and ``tune`` writes) that file instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

from . import hardware
from .registry import PIECEWISE_LINEAR, TRANSCENDENTAL

PROFILE_VERSION = 1
#: the activation families a profile holds thresholds for, and the dtypes of each
FAMILIES = (PIECEWISE_LINEAR, TRANSCENDENTAL)
DTYPES = ("float32", "float64")


def fingerprint() -> dict:
    """What a profile is valid for: the CPU, how many CPUs this process may use, Numba."""
    import numba

    return {
        "cpu": hardware.cpu_model(),
        "cpus": len(hardware.affinity()),
        "numba": numba.__version__,
    }


def cache_dir() -> Path:
    """The per-user cache directory for fastact (XDG on Linux, the platform's elsewhere)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "fastact"


def profile_path(fp: dict | None = None) -> Path:
    """Where the profile is read and written: ``FASTACT_PROFILE`` or the cache directory."""
    env = os.environ.get("FASTACT_PROFILE")
    if env:
        return Path(env)
    key = hashlib.sha1(json.dumps(fp or fingerprint(), sort_keys=True).encode()).hexdigest()
    return cache_dir() / f"profile-{key[:12]}.json"


def load_profile(path: Path | None = None) -> dict | None:
    """The profile's thresholds {family: {dtype: elements}} (and, where measured, "inplace" and
    "cuda" tables of the same form, and "streaming"), or None (with a warning if unusable).

    A missing file is silent; an unreadable, malformed or foreign profile warns and is ignored.
    """
    fp = fingerprint()
    path = path or profile_path(fp)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as e:
        warnings.warn(f"fastact: cannot read the tuned profile {path}: {e}", RuntimeWarning,
                      stacklevel=3)
        return None
    try:
        data = json.loads(text)
        if data.get("version") != PROFILE_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {PROFILE_VERSION}")
        thresholds = data["thresholds"]
        clean = _table(thresholds, "")
        if "inplace" in thresholds:  # the calls that overwrite their input
            clean["inplace"] = _table(thresholds["inplace"], "inplace/")
        if "cuda" in thresholds:  # host-streaming thresholds (a GPU machine); None: never
            clean["cuda"] = _table(thresholds["cuda"], "cuda/", none_ok=True)
        if "streaming" in thresholds:  # output bytes from which stores stream; None: never
            clean["streaming"] = _count(thresholds["streaming"], "streaming", none_ok=True)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        warnings.warn(f"fastact: ignoring the corrupted tuned profile {path} ({e}); "
                      "run `fastact tune` to rewrite it", RuntimeWarning, stacklevel=3)
        return None
    if data.get("fingerprint") != fp:
        warnings.warn(f"fastact: ignoring the tuned profile {path}: it was measured for "
                      f"{data.get('fingerprint')}, this is {fp}; run `fastact tune`",
                      RuntimeWarning, stacklevel=3)
        return None
    return clean


def _count(value, what: str, none_ok: bool = False):
    """``value``, a non-negative int (or None, never, where ``none_ok``); ValueError if not."""
    if not (none_ok and value is None) and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"threshold {what} is {value!r}")
    return value


def _table(part: dict, what: str, none_ok: bool = False) -> dict:
    """{family: {dtype: elements}} of ``part``, each checked by :func:`_count`; ValueError or
    KeyError where one is not there or not a count."""
    return {family: {dtype: _count(part[family][dtype], f"{what}{family}/{dtype}", none_ok)
                     for dtype in DTYPES} for family in FAMILIES}


def save_profile(profile: dict, path: Path) -> None:
    """Write ``profile`` to ``path`` atomically: a reader sees the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(profile, indent=1))
    os.replace(tmp, path)
