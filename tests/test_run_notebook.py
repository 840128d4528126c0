"""`rl2-notebook`: papermill's command line, with parameters checked before a kernel starts and errors
in one line."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rl2lib import run_notebook
from rl2lib.paths import NOTEBOOKS_DIR


@pytest.mark.parametrize(
    "text, value",
    [
        ("True", True),
        ("False", False),
        ("None", None),
        ("5", 5),
        ("-2", -2),
        ("0.5", 0.5),
        ("1e-3", 1e-3),
        ("five", "five"),
        ("no", "no"),
        ("", ""),
    ],
)
def test_values_are_read_as_papermill_reads_them(text, value):
    parsed = run_notebook.parse_value(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["-p", "num_actions", "five"], "error: parameter num_actions must be an integer >= 2, got 'five'"),
        (["-p", "num_actions", "1"], "error: parameter num_actions must be an integer >= 2, got 1"),
        (["-p", "smoke", "no"], "error: parameter smoke must be True or False, got 'no'"),
        (["-p", "precision", "fp16"], "error: parameter precision must be one of 'fp32', 'bf16', got 'fp16'"),
        (["-p", "num_action", "5"], "error: 03_rl2_bandits.ipynb has no parameter 'num_action'; it has smoke, "),
    ],
)
def test_bad_parameters_are_one_line_before_any_kernel(flags, message, tmp_path, capsys):
    output = tmp_path / "out.ipynb"
    code = run_notebook.main([str(NOTEBOOKS_DIR / "03_rl2_bandits.ipynb"), str(output), *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not output.exists()  # nothing ran


def test_missing_notebook_is_one_line(tmp_path, capsys):
    assert run_notebook.main([str(tmp_path / "nope.ipynb"), str(tmp_path / "out.ipynb")]) == 2
    assert capsys.readouterr().err == f"error: no notebook at {tmp_path / 'nope.ipynb'}\n"


def test_list_prints_every_parameter(capsys):
    assert run_notebook.main([str(NOTEBOOKS_DIR / "03_rl2_bandits.ipynb"), "unused.ipynb", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("smoke: bool = False  # ")
    assert any(line.startswith("num_actions: int = 5  # ") for line in lines)


@pytest.mark.slow
def test_a_failing_cell_is_one_line_and_a_good_run_writes_its_copy(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = new_code_cell("fail: bool = False  # raise in the next cell")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, new_code_cell("if fail:\n    raise ValueError('first line\\nbroken on purpose')\nprint('ran')")]
    source = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, source)

    output = tmp_path / "bad.ipynb"
    assert run_notebook.main([str(source), str(output), "-p", "fail", "True"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: ValueError: broken on purpose (the executed copy, with the traceback, is {output})\n"
    assert "Traceback" in output.read_text() or "ValueError" in output.read_text()

    output = tmp_path / "good.ipynb"
    assert run_notebook.main([str(source), str(output)]) == 0
    executed = nbformat.read(output, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "ran\n"
