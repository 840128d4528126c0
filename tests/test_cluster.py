"""Scale-out: the same small grid through the local and the Ray executor gives the same results;
a failing cell is retried a bounded number of times and reported while the others finish."""

import csv
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rl2lib import reproduce, tables
from rl2lib.paths import NOTEBOOKS_DIR

SMOKE_GRID = [
    {"name": "rl2_bandit_smoke", "notebook": "03_rl2_bandits.ipynb", "parameters": {"smoke": True}},
    {"name": "bandit_baselines_smoke", "notebook": "01_bandit_tasks_and_baselines.ipynb", "parameters": {"smoke": True}},
]


def broken_notebook(path, counter):
    """A notebook that records each attempt in `counter`, then fails."""
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    record = f"with open({str(counter)!r}, 'a') as attempts:\n    attempts.write('x')\n"  # closed before the raise
    notebook.cells = [new_code_cell(record + "raise RuntimeError('broken on purpose')")]
    nbformat.write(notebook, path)


def run_grid(executor, results, tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(results))
    counter = tmp_path / f"attempts_{executor}.txt"
    broken_notebook(tmp_path / "broken.ipynb", counter)
    cells = SMOKE_GRID + [{"name": "broken", "notebook": str(tmp_path / "broken.ipynb"), "parameters": {}}]
    jobs = reproduce.make_jobs(cells, seeds=2)
    runner = reproduce.make_executor(executor, jobs=2)
    try:
        failures = reproduce.run_jobs(jobs, runner, retries=1)
    finally:
        runner.close()
    return jobs, failures, counter.read_text()


def without_time(path):
    with open(path) as handle:
        return [{k: v for k, v in row.items() if k not in ("wall_seconds", "seconds")} for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_ray_executor_matches_local_and_retries_a_failing_cell(tmp_path, monkeypatch):
    outcomes = {}
    for executor in ("local", "ray"):
        results = tmp_path / executor
        jobs, failures, attempts = run_grid(executor, results, tmp_path, monkeypatch)
        # seeds expand the learner notebook only; every finished cell left its executed copy and marker
        assert [job.name for job in jobs] == ["rl2_bandit_smoke", "rl2_bandit_smoke_seed1", "bandit_baselines_smoke", "broken"]
        assert [name for name, _ in failures] == ["broken"], failures
        assert "broken on purpose" in failures[0][1] and "after 2 attempts" in failures[0][1]
        assert attempts == "xx"  # one retry, then reported
        for job in jobs[:3]:
            assert job.marker.exists() and job.output.exists()
        assert not jobs[3].marker.exists()
        outcomes[executor] = {
            "groups": {base: {k: v for k, v in group.items() if k != "key"} for base, group in tables.learner_groups().items()},
            "evals": {
                run: json.loads((results / "runs" / run / "eval.json").read_text())
                for run in ("smoke_gru_bandit", "smoke_gru_bandit_seed1")
            },
            "metrics": {
                run: without_time(results / "runs" / run / "metrics.csv")
                for run in ("smoke_gru_bandit", "smoke_gru_bandit_seed1")
            },
            "baselines": without_time(results / "tables" / "baselines_bandits.csv"),
            "rl2_table_1": tables.markdown(tables.assemble("rl2_bandits"), digits=2),
            "seed_table": tables.seed_markdown(),
        }
    local, ray = outcomes["local"], outcomes["ray"]
    assert local["groups"]["smoke_gru_bandit"]["seeds"] == [0, 1]
    assert "**" in local["rl2_table_1"]  # the table was assembled, bold rule and all
    assert local["evals"]["smoke_gru_bandit"]["mean"] != local["evals"]["smoke_gru_bandit_seed1"]["mean"]  # seeds differ
    assert local == ray


def test_ray_executor_rejects_local_only_flags_and_bad_names():
    with pytest.raises(reproduce.RunnerError, match="unknown executor 'dask'; allowed: local, ray"):
        reproduce.make_executor("dask")
    with pytest.raises(reproduce.RunnerError, match="--address is for --executor ray"):
        reproduce.make_executor("local", address="auto")
    with pytest.raises(reproduce.RunnerError, match="--jobs must be >= 1"):
        reproduce.make_executor("local", jobs=0)
    with pytest.raises(reproduce.RunnerError, match="--seeds must be >= 1"):
        reproduce.make_jobs(SMOKE_GRID, seeds=0)


def test_ray_missing_is_a_one_line_hint(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    monkeypatch.setattr(reproduce, "load_profiles", lambda: {"tiny": [SMOKE_GRID[1]]})
    assert reproduce.main(["--profile", "tiny", "--executor", "ray"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {reproduce.RAY_INSTALL_HINT}"


def test_seeds_expand_only_notebooks_with_a_training_seed():
    assert reproduce.takes_train_seed(NOTEBOOKS_DIR / "06_snail_mdps.ipynb")
    assert not reproduce.takes_train_seed(NOTEBOOKS_DIR / "07_tables.ipynb")
