"""The learner campaign: its runs are valid trainer commands in parent-first order, and a campaign
stopped at once and started again trains, evaluates and confirms every run, children from parents."""

import json

import pytest

from rl2lib import campaign
from rl2lib.cli import build_parser, config_from_args
from rl2lib.paths import results_dir
from rl2lib.runs import agent_path, load_checkpoint
from rl2lib.runs import load_parent


def parse(run: campaign.Run):
    return config_from_args(build_parser().parse_args(run.train_argv()))


def test_every_run_parses_and_follows_its_parent():
    """Each run's flags parse; its parent is an earlier campaign run or a committed run with a policy,
    and holds the same model, task family and k with at most as many episodes per trial."""
    names = [run.name for run in campaign.CAMPAIGN]
    assert len(set(names)) == len(names)
    for index, run in enumerate(campaign.CAMPAIGN):
        if run.flags is None:  # a committed run, only evaluated
            assert (run.run_dir / "eval.json").exists() and agent_path(run.run_dir).exists(), run.name
            continue
        config = parse(run)
        assert config.init_from is not None or run.parent is None
        if run.parent is None:
            continue
        earlier = [r for r in campaign.CAMPAIGN[:index] if r.name == run.parent and r.flags is not None]
        assert run.parent not in names[index:], f"{run.name} comes before its parent"
        if earlier:
            parent_task, parent_model = parse(earlier[0]).task.to_dict(), parse(earlier[0]).model
        else:  # committed
            parent = load_checkpoint(agent_path(results_dir() / "runs" / run.parent))["config"]
            parent_task, parent_model = parent["task"], parent["model"]
            parent_model = type(config.model)(**parent_model)
            load_parent(config)  # the trainer accepts it (task, model, depth)
        assert {**parent_task, "num_traj": config.task.num_traj} == config.task.to_dict(), run.name
        assert parent_model.model_type == config.model.model_type and parent_model.hidden_size == config.model.hidden_size
        assert parent_task["num_traj"] <= config.task.num_traj


@pytest.mark.slow
def test_a_stopped_campaign_resumes_and_finishes_every_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    tiny = {
        "batch_size": 100,
        "mini_batch_size": 50,
        "hidden_size": 16,
        "ppo_epochs": 1,
        "validate_every": 1,
        "validate_trials": 20,
    }
    runs = (
        campaign.cell("gru", "bandit", 3, 2, k=2, name="short", **tiny),
        campaign.cell("gru", "bandit", 5, 2, k=2, parent="short", name="long", **tiny),
    )
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    monkeypatch.setattr(campaign, "CONFIRM_TRIALS", 50)
    campaign.run_campaign(list(runs), lanes=2, minutes=0, log_dir=tmp_path / "logs")  # stopped at once
    assert not campaign.is_done(runs[0]) and not (tmp_path / "runs" / "long").exists()
    campaign.run_campaign(list(runs), lanes=2, minutes=None, log_dir=tmp_path / "logs")
    for run in runs:
        assert campaign.is_done(run), (tmp_path / "logs" / f"{run.name}.log").read_text()
        evaluation = json.loads((run.run_dir / "eval.json").read_text())
        confirmation = json.loads((run.run_dir / "confirm.json").read_text())
        assert (evaluation["seed"], evaluation["num_trials"]) == (0, 1000)
        assert (confirmation["seed"], confirmation["num_trials"]) == (campaign.CONFIRM_SEED, 50)
    child = json.loads((tmp_path / "runs" / "long" / "config.json").read_text())
    assert child["init_from"] == str(tmp_path / "runs" / "short" / "best.pt")
    assert child["task"]["num_traj"] == 5 and child["ppo"]["learning_rate"] == pytest.approx(1e-3)  # the recipe's / 3
    assert child["ppo"]["ent_coef"] == 0.0
    assert campaign.steps(runs[1]) == []  # nothing left to do
