"""MAML runs (rl2lib.maml_train) keep the trainer's conventions: a run folder the tables read, bit-identical
resume, best.pt chosen on the validation tasks, one-line errors, and the MAML column of the tables."""

import csv
import json

import pytest
import torch

from rl2lib import tables
from rl2lib.config import TaskConfig
from rl2lib.maml import MAMLConfig, evaluate_maml
from rl2lib.maml_train import MAMLTrainConfig, load_maml, main, run_maml_cell, train_maml

SMALL = MAMLConfig(hidden_sizes=(8,), meta_batch_tasks=20, minibatch_tasks=10, update_epochs=2)


def small_config(**kwargs) -> MAMLTrainConfig:
    return MAMLTrainConfig(
        task=TaskConfig(num_traj=6),
        model=SMALL,
        **{"num_updates": 4, "checkpoint_every": 1, "validate_every": 2, "validate_trials": 30, **kwargs},
    )


def test_a_run_writes_the_trainers_files_and_loads_back(tmp_path):
    config = small_config()
    history = train_maml(config, tmp_path, progress=False)
    assert [row["update"] for row in history] == [1, 2, 3, 4]
    assert {p.name for p in tmp_path.iterdir()} == {"config.json", "metrics.csv", "checkpoint.pt", "best.pt"}
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model"]["model_type"] == "maml" and saved["task"]["num_traj"] == 6  # the tables' layout
    assert MAMLTrainConfig.from_dict(saved) == config
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [row["validation_return"] != "" for row in rows] == [False, True, False, True]
    agent, loaded = load_maml(tmp_path / "checkpoint.pt")
    assert loaded == config
    # best.pt holds the policy of the best validation, which replays to that validation's number
    best_update = max((row for row in rows if row["validation_return"]), key=lambda r: float(r["validation_return"]))
    best, _ = load_maml(tmp_path / "best.pt")
    from rl2lib.train import VALIDATION_SEED

    assert evaluate_maml(best, 30, VALIDATION_SEED).mean == pytest.approx(float(best_update["validation_return"]))


def test_kill_and_resume_gives_identical_metrics(tmp_path):
    whole = train_maml(small_config(), tmp_path / "whole", progress=False)
    train_maml(small_config(), tmp_path / "cut", progress=False, stop_after=2)
    resumed = train_maml(small_config(), tmp_path / "cut", resume=True, progress=False)

    def without_wall(rows):
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in rows]

    assert without_wall(resumed) == without_wall(whole)
    a, _ = load_maml(tmp_path / "whole" / "checkpoint.pt")
    b, _ = load_maml(tmp_path / "cut" / "checkpoint.pt")
    assert all(torch.equal(x, y) for x, y in zip(a.policy.parameters(), b.policy.parameters()))


def test_resume_with_another_learner_is_refused(tmp_path):
    train_maml(small_config(num_updates=1), tmp_path, progress=False)
    other = MAMLTrainConfig(
        task=TaskConfig(num_traj=6), model=MAMLConfig(hidden_sizes=(8,), meta_batch_tasks=20, minibatch_tasks=10, inner_lr=0.5)
    )
    from rl2lib.train import TrainingError

    with pytest.raises(TrainingError, match="another config"):
        train_maml(other, tmp_path, resume=True, progress=False)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--num_traj", "1"], "1 <= adapt_episodes < n=1"),
        (["--inner_lr", "-1"], "inner_lr must be >= 0"),
        (["--metalearn_epochs", "0"], "num_updates must be >= 1"),
        (["--device", "tpu"], "unknown device 'tpu'"),
        (["--resume"], "holds no checkpoint.pt to continue"),
    ],
)
def test_bad_flags_are_one_line_errors(argv, fragment, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv + ["--run_dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and fragment in err and err.count("\n") == 1, err


def test_a_cell_is_evaluated_confirmed_and_fills_the_maml_column(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.setattr("rl2lib.maml_train.CONFIRM_TRIALS", 40)
    cell = run_maml_cell(
        "bandit", 5, 10, num_updates=2, num_trials=50, progress=False, hidden_sizes=(8,), meta_batch_tasks=20, minibatch_tasks=20
    )
    run = tmp_path / "runs" / "maml_bandit_k5_n10"
    assert cell.run_dir == run and cell.paper_mean == 6.5
    evaluation = json.loads((run / "eval.json").read_text())
    assert evaluation["mean"] == pytest.approx(cell.evaluation.mean) and evaluation["num_trials"] == 50
    assert json.loads((run / "confirm.json").read_text())["num_trials"] == 40
    agent, _ = load_maml(run / evaluation["played"])  # the file the table scores replays to its number
    assert evaluate_maml(agent, 50, 0).mean == pytest.approx(evaluation["mean"])
    row = next(r for r in tables.assemble("snail_bandits") if (r["n"], r["k"]) == (10, 5))
    assert row["cells"]["MAML"]["ours"] == pytest.approx(cell.evaluation.mean)
    assert row["cells"]["MAML"]["paper"] == 6.5
    assert "| bandit, 10, 5 | maml_bandit_k5_n10 | 2 |" in tables.maml_markdown()
    assert len(tables.learner_cells()) == 30 and len(tables.learner_cells(("maml",))) == 8
    # loading, not retraining: a second call with the budget reached keeps the checkpoint
    before = (run / "checkpoint.pt").stat().st_mtime_ns
    run_maml_cell(
        "bandit",
        5,
        10,
        num_updates=2,
        num_trials=50,
        progress=False,
        allow_training=False,
        confirm=False,
        hidden_sizes=(8,),
        meta_batch_tasks=20,
        minibatch_tasks=20,
    )
    assert (run / "checkpoint.pt").stat().st_mtime_ns == before


def test_the_readme_ceilings_table_is_what_the_command_prints():
    """The README's table of one-adaptation ceilings is `rl2-maml --ceilings`' output, as committed."""
    from pathlib import Path

    from rl2lib.maml_train import ceilings_markdown

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert ceilings_markdown() in readme
