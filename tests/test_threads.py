"""The thread policy (rl2lib.threads): set before torch loads, wherever the workbook computes."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def wait_policy_seen_by(module: str, environ: dict) -> str:
    """OMP_WAIT_POLICY and GOMP_SPINCOUNT as libgomp would read them in a fresh process that imports
    `module`, then torch."""
    code = f"import {module}, torch, os; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))"
    result = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.mark.parametrize("module", ["rl2lib.train", "rl2lib.evaluate", "rl2lib.campaign", "rl2lib.reproduce"])
def test_every_entry_point_sets_a_passive_wait_policy_and_keeps_the_users(module):
    environ = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert wait_policy_seen_by(module, environ) == "PASSIVE 1000"
    assert wait_policy_seen_by(module, {**environ, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE None"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_each_notebook_imports_rl2lib_before_torch(notebook):
    """A kernel gets the policy only if rl2lib is imported before torch (libgomp reads it on load)."""
    first = None
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code" or first is not None:
            continue
        for node in ast.walk(ast.parse("".join(line for line in cell["source"] if not line.lstrip().startswith("%")))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            roots = [name.split(".")[0] for name in names if name.split(".")[0] in ("rl2lib", "torch")]
            if roots and first is None:
                first = roots[0]
    assert first == "rl2lib", f"{notebook.name} imports {first} first"
