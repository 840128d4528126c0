"""Every notebook runs under papermill with smoke parameters and documents its parameters."""
import os
from pathlib import Path

import nbformat
import papermill
import pytest

from rl2lib.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_cell_is_documented(name, caplog):
    with caplog.at_level("WARNING", logger="papermill"):
        parameters = papermill.inspect_notebook(str(NOTEBOOKS_DIR / name))
    assert "Unable to parse" not in caplog.text  # a line papermill cannot read is missing from --help-notebook
    assert "smoke" in parameters
    for parameter in parameters.values():
        assert parameter["inferred_type_name"] != "None", parameter
        assert parameter["help"], f"{name}: parameter {parameter['name']} has no comment"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_sources_are_committed_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_with_smoke_parameters(name, tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    output = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS_DIR / name), str(output), parameters={"smoke": True},
                               kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS_DIR))
    executed = nbformat.read(output, as_version=4)
    assert any(cell.get("outputs") for cell in executed.cells if cell.cell_type == "code")
