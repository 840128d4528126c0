"""The papermill runner: skips finished cells, survives a failing one, rejects bad input."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rl2lib import reproduce


def write_notebook(path, source):
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = new_code_cell("counter_file = ''  # where to count executions")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, new_code_cell(source)]
    nbformat.write(notebook, path)


@pytest.fixture
def tiny_profile(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    counter = tmp_path / "count.txt"
    write_notebook(notebooks / "ok.ipynb", "open(counter_file, 'a').write('x')")
    write_notebook(notebooks / "bad.ipynb", "raise ValueError('this cell is broken on purpose')")
    cells = [
        {"name": "cell_ok", "notebook": "ok.ipynb", "parameters": {"counter_file": str(counter)}},
        {"name": "cell_bad", "notebook": "bad.ipynb", "parameters": {"counter_file": str(counter)}},
    ]
    monkeypatch.setattr(reproduce, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.setattr(reproduce, "load_profiles", lambda: {"tiny": cells})
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    return counter


@pytest.mark.slow
def test_failing_cell_is_reported_and_finished_cells_are_not_redone(tiny_profile):
    failures = reproduce.run("tiny")
    assert [name for name, _ in failures] == ["cell_bad"]
    assert "broken on purpose" in failures[0][1]
    assert tiny_profile.read_text() == "x"
    markers = {job.name: job.marker for job in reproduce.make_jobs(reproduce.select_cells("tiny", None))}
    assert markers["cell_ok"].exists()
    assert not markers["cell_bad"].exists()
    # an interrupted or partly failed run is rerun: the finished cell is skipped, the failed one retried
    failures = reproduce.run("tiny")
    assert [name for name, _ in failures] == ["cell_bad"] and tiny_profile.read_text() == "x"
    reproduce.run("tiny", only="cell_ok", force=True)
    assert tiny_profile.read_text() == "xx"


def test_main_exit_codes_and_one_line_errors(tiny_profile, capsys):
    assert reproduce.main(["--profile", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "error: unknown profile 'nope'; allowed: tiny"
    assert reproduce.main(["--profile", "tiny", "--only", "zzz"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no cell of profile 'tiny' matches 'zzz'") and "\n" not in err
    assert reproduce.main(["--profile", "tiny", "--list"]) == 0
    assert "cell_ok" in capsys.readouterr().out


def test_profiles_name_existing_notebooks_and_unique_cells():
    from rl2lib.paths import NOTEBOOKS_DIR

    for profile, cells in reproduce.load_profiles().items():
        names = [cell["name"] for cell in cells]
        assert len(names) == len(set(names)), profile
        for cell in cells:
            assert (NOTEBOOKS_DIR / cell["notebook"]).exists(), cell
        assert {cell["notebook"] for cell in cells} == {path.name for path in NOTEBOOKS_DIR.glob("*.ipynb")}, (
            f"{profile} must execute every notebook"
        )


@pytest.mark.slow
def test_each_kernel_gets_the_threads_its_cell_declares(tmp_path, monkeypatch):
    """A cell's `cpus` sets the torch threads of its kernel (more threads than cores slow a shared machine)."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    notebook = tmp_path / "threads.ipynb"
    write_notebook(notebook, "import torch\nopen(counter_file, 'w').write(str(torch.get_num_threads()))")
    for cpus in (1, 2):
        out = tmp_path / f"threads_{cpus}.txt"
        cell = {"name": f"threads_{cpus}", "notebook": str(notebook), "parameters": {"counter_file": str(out)}, "cpus": cpus}
        jobs = reproduce.make_jobs([cell])
        assert reproduce.run_jobs(jobs, reproduce.LocalExecutor(1)) == []
        assert out.read_text() == str(cpus)


def test_an_exact_cell_name_selects_that_cell_only(monkeypatch):
    cells = [{"name": n, "notebook": "x.ipynb", "parameters": {}} for n in ("rl2_k10_n10", "rl2_k10_n100", "rl2_k5_n10")]
    monkeypatch.setattr(reproduce, "load_profiles", lambda: {"paper": cells})
    assert [c["name"] for c in reproduce.select_cells("paper", "rl2_k10_n10")] == ["rl2_k10_n10"]
    assert [c["name"] for c in reproduce.select_cells("paper", "rl2_k10_*")] == ["rl2_k10_n10", "rl2_k10_n100"]
    assert [c["name"] for c in reproduce.select_cells("paper", "_n10")] == ["rl2_k10_n10", "rl2_k10_n100", "rl2_k5_n10"]


@pytest.mark.slow
def test_running_one_cell_keeps_the_other_cells_timings_and_the_bar_advances_per_cell(tiny_profile, monkeypatch, capfd):
    """Each finished cell's seconds are merged into results/notebooks/timings.json, so rerunning one
    cell (on a fresh clone, without the other cells' markers) keeps every other row; with one job the
    progress bar moves as each cell ends, not all at once after the last."""
    seen = []
    real_execute = reproduce.execute_job
    monkeypatch.setattr(reproduce, "execute_job", lambda job: seen.append(job.name) or real_execute(job))
    good = {"name": "cell_ok2", "notebook": "ok.ipynb", "parameters": {"counter_file": str(tiny_profile)}}
    cells = reproduce.load_profiles()["tiny"][:1] + [good]
    monkeypatch.setattr(reproduce, "load_profiles", lambda: {"tiny": cells})
    executor = reproduce.LocalExecutor(1)
    jobs = reproduce.make_jobs(reproduce.select_cells("tiny", None))
    handles = [executor.submit(job) for job in jobs]
    assert seen == []  # nothing runs at submission
    handle, error = executor.wait_one(handles)
    assert error is None and seen == ["cell_ok"]
    jobs[0].marker.unlink()
    assert reproduce.run("tiny") == []
    timings_path = jobs[0].timings
    first = reproduce.json.loads(timings_path.read_text())
    assert set(first) == {"cell_ok", "cell_ok2"}
    for job in jobs:
        job.marker.unlink()  # a fresh clone: no markers
    assert reproduce.run("tiny", only="cell_ok2") == []
    after = reproduce.json.loads(timings_path.read_text())
    assert set(after) == {"cell_ok", "cell_ok2"} and after["cell_ok"] == first["cell_ok"]
    assert "without encryption" not in capfd.readouterr().err  # the kernels' start-up warning is silenced


@pytest.mark.slow
def test_executed_notebooks_hold_paths_relative_to_the_repository(tiny_profile, tmp_path, monkeypatch):
    """papermill records the notebook's absolute input and output paths and its parameters; the
    runner rewrites them relative to the repository, so a rerun elsewhere gives the same file."""
    monkeypatch.setattr(reproduce, "REPO_ROOT", tmp_path)
    assert reproduce.run("tiny", only="cell_ok") == []
    job = reproduce.make_jobs(reproduce.select_cells("tiny", "cell_ok"))[0]
    text = job.output.read_text()
    assert str(tmp_path) not in text
    assert '"input_path": "notebooks/ok.ipynb"' in text and '"count.txt"' in text
