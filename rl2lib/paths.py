"""Where results go: every path the library writes comes from here.

`RL2LIB_RESULTS` overrides the results folder (tests point it at a temporary directory).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"


def results_dir() -> Path:
    """The results folder: $RL2LIB_RESULTS, else `results/` beside the package."""
    return Path(os.environ.get("RL2LIB_RESULTS", REPO_ROOT / "results"))


def tables_dir() -> Path:
    return results_dir() / "tables"


def figures_dir() -> Path:
    return results_dir() / "figures"


def notebooks_out_dir() -> Path:
    """Executed copies of the notebooks (papermill output)."""
    return results_dir() / "notebooks"
