"""The evaluation command line: results, and one-line errors for bad input."""

import json
import subprocess
import sys

import pytest
import torch

from rl2lib.baselines import BASELINES
from rl2lib.config import TaskConfig
from rl2lib.evaluate import evaluate_baseline, main
from rl2lib.params import ParameterError


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rl2lib.evaluate", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--agent", "nope"], "unknown agent 'nope'"),
        (["--agent", "random", "--num_actions", "1"], "at least 2 arms"),
        (["--agent", "random", "--num_traj", "0"], "num_traj"),
        (["--agent", "random", "--num_trials", "-3"], "num_trials"),
        (["--agent", "random", "--task", "maze"], "unknown task 'maze'"),
        (["--agent", "random", "--task", "bandit", "--traj_len", "3"], "traj_len must be 1"),
        (["--agent", "random", "--param", "0.5"], "has no hyper-parameter"),
        (["--agent", "missing.pt"], "does not exist"),
        (["--agent", "random", "--device", "tpu"], "unknown device"),
    ],
)
def test_bad_input_gives_one_line_error(args, fragment):
    result = run_cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--agent", "gittins", "--param", "-1"], "discount of gittins must be a number in (0, 1), got -1"),
        (["--agent", "gittins", "--param", "1"], "discount of gittins must be a number in (0, 1), got 1"),
        (["--agent", "eps_greedy", "--param", "1.5"], "epsilon of eps_greedy must be a number in [0, 1], got 1.5"),
        (["--agent", "ots", "--param", "2.5"], "num_samples of ots must be an integer >= 1, got 2.5"),
        (["--agent", "ucb1", "--param", "nan"], "c of ucb1 must be a finite number >= 0, got nan"),
        (["--task", "mdp", "--agent", "opsrl", "--param", "0"], "num_samples of opsrl must be an integer >= 1, got 0"),
    ],
)
def test_param_out_of_the_baselines_range_is_one_line_error(args, message):
    result = run_cli(*args, "--num_trials", "5")
    assert result.returncode == 2
    assert result.stderr == f"error: {message}\n"  # one line, no traceback (gittins -1 was a math domain error)


@pytest.mark.parametrize(
    "args, param",
    [
        (["--agent", "eps_greedy", "--param", "1"], 1.0),
        (["--agent", "eps_greedy", "--param", "0"], 0.0),
        (["--agent", "ucb1", "--param", "0"], 0.0),
        (["--agent", "gittins", "--param", "0.5"], 0.5),
        (["--agent", "ots", "--param", "1"], 1),
        (["--task", "mdp", "--num_traj", "2", "--agent", "eps_greedy", "--param", "1.0"], 1.0),
        (["--task", "mdp", "--num_traj", "2", "--agent", "opsrl", "--param", "1"], 1),
    ],
)
def test_param_at_the_edge_of_its_range_still_runs(args, param):
    result = main([*args, "--num_trials", "20"])
    assert result.num_trials == 20 and result.param == param and type(result.param) is type(param)


@pytest.mark.parametrize("task, name", [(task, name) for task, table in BASELINES.items() for name in table])
def test_each_baseline_accepts_its_grid_and_rejects_values_outside_its_range(task, name):
    baseline = BASELINES[task][name]
    assert baseline.check_param(None) == baseline.default_param
    assert all(baseline.check_param(value) == value for value in baseline.param_grid)
    with pytest.raises(ParameterError) as error:
        baseline.check_param(-1)
    if baseline.param_name is None:
        assert str(error.value) == f"baseline {name!r} has no hyper-parameter, got -1"
    else:
        assert str(error.value).startswith(f"{baseline.param_name} of {name} must be ")


def test_library_calls_check_the_param_too():
    with pytest.raises(ParameterError, match=r"discount of gittins must be a number in \(0, 1\), got -1"):
        evaluate_baseline(TaskConfig(), "gittins", -1, num_trials=5)


def test_corrupt_checkpoint_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = run_cli("--agent", str(bad))
    assert result.returncode == 2 and "cannot be read" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_random_bandit_is_half_of_n_within_se(tmp_path):
    out = tmp_path / "r.json"
    result = main(["--agent", "random", "--num_traj", "100", "--num_trials", "2000", "--json", str(out)])
    assert abs(result.mean - 50.0) < 3 * result.se
    saved = json.loads(out.read_text())
    assert saved["num_trials"] == 2000 and saved["mean"] == pytest.approx(result.mean)


def test_same_seed_same_numbers():
    cfg = TaskConfig(task="mdp", num_traj=3)
    a = evaluate_baseline(cfg, "random", num_trials=50, seed=5)
    b = evaluate_baseline(cfg, "random", num_trials=50, seed=5)
    c = evaluate_baseline(cfg, "random", num_trials=50, seed=6)
    assert a.totals.equal(b.totals) and not a.totals.equal(c.totals)


@pytest.mark.parametrize("model_type", ["gru", "snail"])
def test_evaluation_plays_what_sampling_with_the_value_network_plays(model_type):
    """`play_policy` skips the value network (SNAIL's value cache is a third of its step memory):
    the same actions and rewards as `collect_trials` stepping it, on the same seeded tasks and generators."""
    from rl2lib.cli import config_from_flags
    from rl2lib.envs import seeded_tasks
    from rl2lib.evaluate import evaluation_generators, play_policy
    from rl2lib.models import build_policy
    from rl2lib.rollout import collect_trials

    config = config_from_flags(task="mdp", num_traj=3, model_type=model_type, hidden_size=8)
    torch.manual_seed(0)
    policy = build_policy(config.task, config.model).eval()
    _, played = play_policy(policy, config.task, num_trials=40, seed=7)
    reference = collect_trials(policy, seeded_tasks(config.task, 40, 7), config.task, *evaluation_generators(7))
    assert torch.equal(played.actions, reference.actions) and torch.equal(played.rewards, reference.rewards)
    assert reference.values.isfinite().all() and reference.actions.unique().numel() > 1


def test_snail_trials_that_outgrow_the_play_memory_play_in_batches_and_the_first_as_its_own_evaluation(monkeypatch):
    from rl2lib import evaluate
    from rl2lib.cli import config_from_flags
    from rl2lib.models import build_policy

    config = config_from_flags(task="bandit", num_actions=5, num_traj=20, model_type="snail")
    torch.manual_seed(0)
    policy = build_policy(config.task, config.model).eval()
    net, T, inputs = policy.policy_net, config.task.trial_len, policy.obs_size
    per_trial = 4 * T * (net.out_size + net.attention.key_size + net.attention.value_size + inputs)  # SNAILNet's docstring
    monkeypatch.setattr(evaluate, "PLAY_MEMORY_GIB", 64 * per_trial / 2**30)
    assert evaluate.trials_per_batch(policy, config.task) == 64
    whole = evaluate.evaluate_policy(policy, config.task, num_trials=64, seed=3)  # one batch
    batched = evaluate.evaluate_policy(policy, config.task, num_trials=150, seed=3)  # 64 + 64 + 22
    assert torch.equal(batched.totals[:64], whole.totals)  # a bandit's first 64 tasks of 150 are the 64 tasks
    assert batched.num_trials == 150 and not torch.equal(batched.totals[64:128], whole.totals)


def test_a_run_folder_plays_its_best_policy_looked_up_when_the_evaluation_starts(tmp_path):
    """`--agent <run folder>` plays `runs.agent_path` of the folder as it is then: best.pt once the run
    has validated (the campaign names the folder before its run has trained), else checkpoint.pt."""
    from rl2lib.cli import config_from_flags
    from rl2lib.train import train

    flags = {"task": "bandit", "num_actions": 2, "num_traj": 3, "batch_size": 60, "mini_batch_size": 30, "hidden_size": 8}
    run_dir = tmp_path / "run"
    train(config_from_flags(**flags, metalearn_epochs=2), run_dir, progress=False)
    first = main(["--agent", str(run_dir), "--num_trials", "50", "--json", str(tmp_path / "a.json")])
    assert json.loads((tmp_path / "a.json").read_text())["played"] == "checkpoint.pt"
    assert first.mean == main(["--agent", str(run_dir / "checkpoint.pt"), "--num_trials", "50"]).mean
    train(
        config_from_flags(**flags, metalearn_epochs=2, validate_every=1, validate_trials=20),
        tmp_path / "validated",
        progress=False,
    )
    best = main(["--agent", str(tmp_path / "validated"), "--num_trials", "50", "--json", str(tmp_path / "b.json")])
    assert json.loads((tmp_path / "b.json").read_text())["played"] == "best.pt"
    assert best.mean == main(["--agent", str(tmp_path / "validated" / "best.pt"), "--num_trials", "50"]).mean
