"""Every notebook runs under papermill with smoke parameters, documents its parameters and checks them."""

import re

import nbformat
import papermill
import pytest

from rl2lib.params import check_parameters
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


CHECK_CELL = "params.check_parameters(globals())"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameters_are_checked_right_after_the_parameters_cell(name):
    notebook = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    assert notebook.cells[index + 1].source == CHECK_CELL
    assert re.search(r"^from rl2lib import .*\bparams\b", notebook.cells[index - 1].source, re.M)  # the imports cell
    namespace = {}
    exec(notebook.cells[index].source, namespace)  # the defaults, with their annotations
    check_parameters(namespace)  # every type is checkable and every default is in its range
    assert set(namespace["__annotations__"]) == set(papermill.inspect_notebook(str(NOTEBOOKS_DIR / name)))


@pytest.mark.slow
def test_bad_parameter_stops_the_notebook_with_one_short_line(tmp_path, monkeypatch):
    """`papermill ... -p num_actions five`: one line naming the parameter, not a 60-line traceback."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    output = tmp_path / "explorer.ipynb"
    message = "parameter num_actions must be an integer >= 2, got 'five'"
    with pytest.raises(papermill.PapermillExecutionError) as error:
        papermill.execute_notebook(
            str(NOTEBOOKS_DIR / "08_explorer.ipynb"),
            str(output),
            parameters={"num_actions": "five"},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(NOTEBOOKS_DIR),
        )
    assert (error.value.ename, error.value.evalue) == ("ParameterError", message)
    assert error.value.traceback == [f"ParameterError: {message}"]
    executed = nbformat.read(output, as_version=4)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    check = next(i for i, cell in enumerate(code) if cell.source == CHECK_CELL)
    assert [output["traceback"] for output in code[check].outputs if output["output_type"] == "error"] == [
        [f"ParameterError: {message}"]
    ]
    assert not any(cell.get("outputs") for cell in code[check + 1 :])  # nothing after the check ran


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_with_smoke_parameters(name, tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    output = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS_DIR / name),
        str(output),
        parameters={"smoke": True},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    executed = nbformat.read(output, as_version=4)
    assert any(cell.get("outputs") for cell in executed.cells if cell.cell_type == "code")
