"""The trainer: learning on an easy task, kill-and-resume, the original command lines, bad flags."""

import csv
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rl2lib.cli import build_parser, config_from_args
from rl2lib.config import ConfigError, ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.evaluate import evaluate_checkpoint
from rl2lib.runs import is_training
from rl2lib.train import TrainingError, main, train

TINY = [
    "--num_traj",
    "5",
    "--batch_size",
    "200",
    "--mini_batch_size",
    "100",
    "--hidden_size",
    "16",
    "--ppo_epochs",
    "2",
    "--metalearn_epochs",
    "6",
    "--device",
    "cpu",
    "--no_progress",
    "--num_workers",
    "1",
]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rl2lib.train", *args], capture_output=True, text=True, cwd=cwd)


def metrics_without_time(path: Path) -> list[dict]:
    with open(path) as handle:
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_two_armed_bandit_with_large_gap_is_learned(tmp_path):
    """Arms 0.1 vs 0.9 drawn at random positions: after a small budget the agent finds the good arm."""
    config = TrainConfig(
        task=TaskConfig(task="bandit", num_actions=2, num_traj=10),
        model=ModelConfig(hidden_size=32),
        ppo=PPOConfig(num_trials=500, minibatch_trials=125, learning_rate=1e-2),
        num_updates=40,
        checkpoint_every=40,
    )
    # a fixed pool of easy tasks: one arm at 0.1, the other at 0.9
    from rl2lib import train as train_module
    from rl2lib.envs import BanditTasks

    probs = torch.tensor([[0.1, 0.9], [0.9, 0.1]]).repeat(50, 1)
    original = train_module.task_pool
    train_module.task_pool = lambda cfg: BanditTasks(probs)
    try:
        history = train(replace_num_tasks(config, 100), tmp_path, progress=False)
    finally:
        train_module.task_pool = original
    # random play earns 5.0 per trial; always the good arm 9.0; exploring once costs about 0.8
    assert history[0]["mean_trial_return"] < 6.0
    assert sum(row["mean_trial_return"] for row in history[-5:]) / 5 > 7.5


def replace_num_tasks(config, num_tasks):
    from dataclasses import replace

    return replace(config, num_tasks=num_tasks)


def test_kill_and_resume_gives_identical_metrics(tmp_path):
    # 40 updates: on an idle machine a tiny run wrote all of 8 between the poll that saw 3 and the kill
    args = TINY + ["--metalearn_epochs", "40", "--checkpoint_every", "1"]
    reference = cli(*args, "--run_dir", str(tmp_path / "ref"))
    assert reference.returncode == 0, reference.stderr
    run_dir = tmp_path / "cut"
    process = subprocess.Popen(
        [sys.executable, "-m", "rl2lib.train", *args, "--run_dir", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:  # kill it once it has checkpointed a few updates
        metrics = run_dir / "metrics.csv"
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 4:
            break
        time.sleep(0.05)
    assert is_training(run_dir)  # the trainer holds the folder's lock ...
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not is_training(run_dir)  # ... which goes with it, killed as it may be
    rows_when_killed = len((run_dir / "metrics.csv").read_text().splitlines()) - 1
    assert 0 < rows_when_killed < 40, "the run must be cut off mid-way for this test to mean anything"
    resumed = cli(*args, "--run_dir", str(run_dir), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert metrics_without_time(run_dir / "metrics.csv") == metrics_without_time(tmp_path / "ref" / "metrics.csv")
    a = torch.load(run_dir / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "ref" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(a[key], b[key]) for key in a)


SAMPLE_COMMANDS = [  # the original project's README, after the program name
    "--out_file test_bandit.pt --batch_size 100 --num_tasks 100 --mini_batch_size 20 --num_traj 50 --tau 0.3 "
    "--gamma 0.99 --ppo_epochs 7 --learning_rate 0.005 --clip_param 0.2",
    "--out_file test_10armed_bandit.pt --batch_size 100 --num_tasks 100 --mini_batch_size 20 --num_traj 50 "
    "--tau 0.3 --gamma 0.99 --ppo_epochs 7 --learning_rate 0.005 --clip_param 0.2 --num_actions 10",
    "--out_file test_mdp_snail.pt --batch_size 100 --num_tasks 100 --mini_batch_size 20 --num_traj 50 --tau 0.3 "
    "--gamma 0.99 --ppo_epochs 7 --learning_rate 0.005 --clip_param 0.2 --model_type snail --metalearn_epochs 1500",
]


@pytest.mark.parametrize("command", SAMPLE_COMMANDS)
def test_sample_commands_parse_to_the_documented_meaning(command):
    config = config_from_args(build_parser().parse_args(command.split()))
    assert config.task.task == "bandit" and config.task.num_traj == 50 and config.task.trial_len == 50
    assert config.num_tasks == 100 and config.ppo.update_epochs == 7 and config.ppo.gae_lambda == 0.3
    assert config.ppo.num_trials == 2  # 100 steps = 2 trials of 50
    assert config.ppo.minibatch_trials == 1  # 20 steps round up to one whole trial


@pytest.mark.slow
@pytest.mark.parametrize("command", SAMPLE_COMMANDS[:2] + [SAMPLE_COMMANDS[2].replace("1500", "3")])
def test_sample_commands_run_unchanged(command, tmp_path):
    args = command.split()
    if "--metalearn_epochs" not in args:
        args += ["--metalearn_epochs", "3"]  # the original default is 300; a test runs a few
    result = cli(*args, "--no_progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out_file = tmp_path / args[args.index("--out_file") + 1]
    assert out_file.exists()
    assert "task bandit" in result.stdout
    evaluation = evaluate_checkpoint(out_file, num_trials=20)
    assert evaluation.num_trials == 20


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--model_type", "lstm"], "unknown model_type 'lstm'"),
        (["--task", "maze"], "unknown task 'maze'"),
        (["--mini_batch_size", "500", "--batch_size", "100"], "mini_batch_size (500) must be <= batch_size (100)"),
        (["--task", "bandit", "--traj_len", "4"], "traj_len must be 1"),
        (["--num_actions", "1"], "at least 2 arms"),
        (["--num_traj", "0"], "num_traj"),
        (["--num_tasks", "-1"], "num_tasks must be >= 0"),
        (["--gamma", "1.5"], "gamma must be in [0, 1]"),
        (["--tau", "-0.1"], "gae_lambda (--tau) must be in [0, 1]"),
        (["--clip_param", "0"], "clip_coef (--clip_param) must be > 0"),
        (["--learning_rate", "-1"], "learning_rate must be > 0"),
        (["--ppo_epochs", "0"], "update_epochs (--ppo_epochs) must be >= 1"),
        (["--metalearn_epochs", "0"], "num_updates (--metalearn_epochs) must be >= 1"),
        (["--batch_size", "0"], "batch_size must be >= 1"),
        (["--num_workers", "0"], "num_workers must be >= 1"),
        (["--device", "tpu"], "unknown device"),
        (["--out_file", "model.bin"], "must end in .pt"),
        (["--recipe", "fast"], "unknown recipe"),
        (["--validate_every", "-1"], "validate_every must be >= 0"),
        (["--validate_every", "5", "--validate_trials", "1"], "validate_trials must be >= 2"),
        (["--model_type", "snail", "--first_dilation", "4"], "first_dilation must be 1 or 2"),
        (["--model_type", "snail", "--layer_norm"], "layer_norm is a GRU setting"),
        (["--model_type", "snail", "--nonlinearity", "relu"], "nonlinearity is a GRU setting"),
        (["--nonlinearity", "sigmoid"], "unknown nonlinearity 'sigmoid'; allowed: tanh, relu"),
        (["--depth_len", "100"], "depth_len is SNAIL's TCBlock depth"),
        (["--snail_width", "64"], "snail_width is a SNAIL setting"),
        (["--model_type", "snail", "--snail_width", "1"], "snail_width must be even and >= 2"),
        (["--model_type", "snail", "--snail_width", "33"], "snail_width must be even and >= 2"),
        (["--precision", "fp16"], "unknown precision 'fp16'; allowed: fp32, bf16"),
        (["--train_prior_b", "0"], "train_prior_b must be > 0"),
        (["--task", "mdp", "--train_prior_b", "2"], "train_prior_b sets the prior of bandit arms"),
    ],
)
def test_impossible_flags_give_one_line_errors(args, fragment, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--run_dir", str(tmp_path / "r"), "--no_progress"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing written


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"clip_coef": 0.0}, "clip_coef (--clip_param) must be > 0"),
        ({"gae_lambda": 1.5}, "gae_lambda (--tau) must be in [0, 1]"),
        ({"update_epochs": 0}, "update_epochs (--ppo_epochs) must be >= 1"),
    ],
)
def test_a_config_built_in_python_names_the_field_it_was_given(fields, fragment):
    """A notebook builds PPOConfig from its fields: the error names the field first, the flag beside it."""
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        PPOConfig(**fields)
    with pytest.raises(ConfigError, match=re.escape("num_updates (--metalearn_epochs) must be >= 1")):
        TrainConfig(num_updates=0)


def test_bad_flag_in_a_real_process_has_no_traceback(tmp_path):
    result = cli("--mini_batch_size", "500", "--batch_size", "100", "--run_dir", str(tmp_path / "r"))
    assert result.returncode == 2 and result.stderr.startswith("error: mini_batch_size")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    first = cli(*TINY, "--metalearn_epochs", "1", "--run_dir", str(tmp_path / "r"))
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "r" / "checkpoint.pt").read_bytes()
    second = cli(*TINY, "--metalearn_epochs", "1", "--run_dir", str(tmp_path / "r"))
    assert second.returncode == 2 and "--resume" in second.stderr
    assert (tmp_path / "r" / "checkpoint.pt").read_bytes() == before


def test_nan_loss_stops_with_the_epoch_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    from rl2lib import ppo
    from rl2lib.train import TrainingError

    config = config_from_args(build_parser().parse_args(TINY + ["--checkpoint_every", "1"]))
    train(replace_num_updates(config, 2), tmp_path, progress=False)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    real_loss = ppo.ppo_loss

    def nan_loss(*args, **kwargs):
        terms = real_loss(*args, **kwargs)
        terms.loss = terms.loss * float("nan")
        return terms

    monkeypatch.setattr(ppo, "ppo_loss", nan_loss)
    with pytest.raises(TrainingError, match="metalearn epoch 3"):
        train(replace_num_updates(config, 4), tmp_path, resume=True, progress=False)
    assert (tmp_path / "checkpoint.pt").read_bytes() == good


def replace_num_updates(config, num_updates):
    from dataclasses import replace

    return replace(config, num_updates=num_updates)


def test_validation_keeps_the_best_policy_and_leaves_training_unchanged(tmp_path):
    """best.pt is the policy of the best validation row, re-evaluating it on the validation seed gives
    that row's number, and validating does not change what training samples (its own generators)."""
    from rl2lib.train import VALIDATION_SEED

    plain = cli(*TINY, "--run_dir", str(tmp_path / "plain"))
    validated = cli(*TINY, "--run_dir", str(tmp_path / "val"), "--validate_every", "2", "--validate_trials", "50")
    assert plain.returncode == 0 and validated.returncode == 0, validated.stderr
    rows = metrics_without_time(tmp_path / "val" / "metrics.csv")

    def strip(row):
        return {k: v for k, v in row.items() if not k.startswith("validation")}

    assert [strip(r) for r in rows] == [strip(r) for r in metrics_without_time(tmp_path / "plain" / "metrics.csv")]
    scores = {int(r["update"]): float(r["validation_return"]) for r in rows if r["validation_return"]}
    assert sorted(scores) == [2, 4, 6]
    best_update = max(scores, key=scores.get)
    best = torch.load(tmp_path / "val" / "best.pt", weights_only=False)
    assert best["update"] == best_update and best["best_validation"] == scores[best_update]
    again = evaluate_checkpoint(tmp_path / "val" / "best.pt", num_trials=50, seed=VALIDATION_SEED)
    assert again.mean == pytest.approx(scores[best_update], abs=1e-9)


def test_a_training_prior_changes_the_training_tasks_only(tmp_path):
    """--train_prior_b 4: the training trials' arms pay 1/5 on average (a barely trained policy earns about 5 x 0.2
    per trial of 5 pulls, 1 SE about 0.14), while validation plays the paper's U[0, 1] arms (about 2.5)."""
    result = cli(*TINY, "--train_prior_b", "4", "--validate_every", "2", "--validate_trials", "200", "--run_dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = metrics_without_time(tmp_path / "metrics.csv")
    training = sum(float(row["mean_trial_return"]) for row in rows) / len(rows)  # 240 trials
    validation = [float(row["validation_return"]) for row in rows if row["validation_return"]]
    assert training < 1.5 and min(validation) > 2.0, (training, validation)
    assert json.loads((tmp_path / "config.json").read_text())["train_prior_b"] == 4


def test_resume_accepts_a_config_written_before_newer_fields(tmp_path):
    """A checkpoint whose config lacks fields added later (they take their defaults) still resumes."""
    args = TINY + ["--metalearn_epochs", "2"]
    assert cli(*args, "--run_dir", str(tmp_path)).returncode == 0
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    del checkpoint["config"]["validate_every"], checkpoint["config"]["model"]["first_dilation"]
    torch.save(checkpoint, tmp_path / "checkpoint.pt")
    resumed = cli(*TINY, "--metalearn_epochs", "3", "--run_dir", str(tmp_path), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert len(metrics_without_time(tmp_path / "metrics.csv")) == 3


def test_init_from_starts_from_the_parent_policy_and_counts_its_steps(tmp_path):
    """A second phase (`--init_from`) starts from the parent's weights, Adam state and normaliser, with
    its own PPO settings, and its steps count on from the parent's; another model is a one-line error."""
    assert cli(*TINY, "--metalearn_epochs", "2", "--run_dir", str(tmp_path / "parent")).returncode == 0
    parent = torch.load(tmp_path / "parent" / "checkpoint.pt", weights_only=False)
    child_args = [*TINY, "--init_from", str(tmp_path / "parent" / "checkpoint.pt"), "--learning_rate", "1e-4"]
    config = config_from_args(build_parser().parse_args(child_args + ["--metalearn_epochs", "3"]))
    train(config, tmp_path / "child", progress=False, stop_after=0)  # nothing trained yet: the loaded state
    start = torch.load(tmp_path / "child" / "checkpoint.pt", weights_only=False)
    for name, tensor in parent["model"].items():
        assert torch.equal(start["model"][name], tensor), name
    for moments, parent_moments in zip(start["optimizer"]["state"].values(), parent["optimizer"]["state"].values()):
        assert torch.equal(moments["exp_avg_sq"], parent_moments["exp_avg_sq"])
    assert start["normalizer"] == parent["normalizer"]
    (tmp_path / "parent" / "checkpoint.pt").unlink()  # resuming needs nothing more from the parent
    history = train(config, tmp_path / "child", resume=True, progress=False)
    parent_steps = parent["metrics"][-1]["env_steps"]
    assert [row["env_steps"] for row in history] == [parent_steps + 200 * u for u in (1, 2, 3)]
    assert history[0]["wall_seconds"] > parent["metrics"][-1]["wall_seconds"]
    assert history[0]["learning_rate"] == 1e-4
    assert cli(*TINY, "--metalearn_epochs", "1", "--run_dir", str(tmp_path / "parent2")).returncode == 0
    narrower = cli(
        *TINY,
        "--hidden_size",
        "8",
        "--init_from",
        str(tmp_path / "parent2" / "checkpoint.pt"),
        "--run_dir",
        str(tmp_path / "narrower"),
    )
    assert narrower.returncode == 2 and "another task or model" in narrower.stderr and "Traceback" not in narrower.stderr
    missing = cli(*TINY, "--init_from", str(tmp_path / "nowhere.pt"), "--run_dir", str(tmp_path / "orphan"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "orphan").exists() and not (tmp_path / "narrower").exists()


def test_an_mdp_cell_trains_its_second_phase_from_the_first_and_is_scored_by_it(tmp_path, monkeypatch):
    """run_cell(phase2_updates=N): `<name>_phase2` starts from the first phase's agent with the
    recipe's second-phase settings (flags given apply to both phases), and the cell is its evaluation."""
    import json

    from rl2lib import experiment
    from rl2lib.cli import recipe_phase2
    from rl2lib.config import ConfigError

    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    small = dict(hidden_size=8, batch_size=400, mini_batch_size=200, num_workers=1)
    cell = experiment.run_cell("gru", "mdp", 5, 2, 2, name="m", num_trials=20, progress=False, phase2_updates=2, **small)
    first, second = tmp_path / "runs" / "m", tmp_path / "runs" / "m_phase2"
    config = json.loads((second / "config.json").read_text())
    assert config["init_from"] == str((first / "checkpoint.pt").resolve())
    assert config["ppo"]["gae_lambda"] == recipe_phase2(cell.config.task, "gru")["tau"] == 0.9
    assert config["ppo"]["learning_rate"] == pytest.approx(1e-3) and config["num_updates"] == 2
    assert config["ppo"]["num_trials"] == 400 // 20  # the flags given still apply
    assert cell.name == "m_phase2" and list(cell.curves) == ["m", "m_phase2"]
    assert json.loads((second / "eval.json").read_text())["mean"] == cell.evaluation.mean
    assert cell.history[0]["env_steps"] == cell.curves["m"][-1]["env_steps"] + 400
    with pytest.raises(ConfigError, match="no second phase"):
        experiment.run_cell("gru", "bandit", 5, 2, 1, name="b", phase2_updates=1, **small)


def test_an_mdp_run_prints_its_second_phase_command_which_accepts_the_checkpoint(tmp_path):
    """The printed second-phase command parses, keeps the first phase's model, and starts from its agent."""
    import shlex

    run = tmp_path / "my runs" / "a_seed1"
    first = cli(
        *TINY,
        "--task",
        "mdp",
        "--num_traj",
        "2",
        "--traj_len",
        "3",
        "--seed",
        "1",
        "--metalearn_epochs",
        "1",
        "--run_dir",
        str(run),
    )
    assert first.returncode == 0, first.stderr
    hint = [line for line in first.stdout.splitlines() if "second phase" in line]
    assert len(hint) == 1
    words = shlex.split(hint[0].split(": rl2-train", 1)[1])
    config = config_from_args(build_parser().parse_args(words))
    assert config.model.hidden_size == 16 and config.ppo.gae_lambda == 0.9
    assert config.seed == 1 and config.task.traj_len == 3
    assert config.init_from == str((run / "checkpoint.pt").resolve())
    short = words + ["--metalearn_epochs", "1", "--batch_size", "200", "--mini_batch_size", "100", "--no_progress"]
    assert cli(*short).returncode == 0
    assert torch.load(tmp_path / "my runs" / "a_phase2_seed1" / "checkpoint.pt", weights_only=False)["update"] == 1


def test_a_gru_without_a_clock_starts_one_with_a_zero_clock_column_and_plays_as_it_did(tmp_path):
    """`--clock --init_from` a GRU without one: each GRU's input weights and Adam moments get a zero last
    column and nothing else changes, so the child plays the parent's logits and values on any trial; a run
    without a clock cannot start from one with it, nor a SNAIL with a clock from one without."""
    from rl2lib.train import build_config_policy

    def config(*args):
        return config_from_args(build_parser().parse_args([*TINY, "--metalearn_epochs", "1", "--separate_value", *args]))

    train(config(), tmp_path / "plain", progress=False)
    child = config("--clock", "--init_from", str(tmp_path / "plain" / "checkpoint.pt"))
    train(child, tmp_path / "clock", progress=False, stop_after=0)
    parent = torch.load(tmp_path / "plain" / "checkpoint.pt", weights_only=False)
    start = torch.load(tmp_path / "clock" / "checkpoint.pt", weights_only=False)
    names = [name for name, _ in build_config_policy(child).named_parameters()]
    for index, name in enumerate(names):
        widened = name.endswith("gru.weight_ih_l0")
        before, after = parent["model"][name], start["model"][name]
        assert torch.equal(after[:, :-1] if widened else after, before) and (not widened or not after[:, -1].any()), name
        for key in ("exp_avg", "exp_avg_sq"):
            moment = start["optimizer"]["state"][index][key]
            assert torch.equal(moment[:, :-1] if widened else moment, parent["optimizer"]["state"][index][key]), name
    played, plain = build_config_policy(child), build_config_policy(config())
    played.load_state_dict(start["model"]), plain.load_state_dict(parent["model"])
    obs = torch.rand(5, 3, plain.obs_size)  # (T, B, O)
    clock = torch.rand(5, 3, 1)  # whatever the clock reads
    for ours, theirs in zip(played(torch.cat([obs, clock], -1)), plain(obs)):
        torch.testing.assert_close(ours, theirs)
    no_clock = config("--init_from", str(tmp_path / "clock" / "checkpoint.pt"))
    snail = ["--model_type", "snail", "--batch_size", "40", "--mini_batch_size", "40"]
    train(config(*snail), tmp_path / "snail", progress=False)
    snail_clock = config(*snail, "--clock", "--init_from", str(tmp_path / "snail" / "checkpoint.pt"))
    for bad in (no_clock, snail_clock):
        with pytest.raises(TrainingError, match="another task or model, clock"):
            train(bad, tmp_path / "bad", progress=False, stop_after=0)


def test_a_wider_gru_starts_from_a_narrower_one_and_plays_as_it_did_until_it_trains(tmp_path):
    """`--hidden_size 24 --init_from` a GRU of 16 units (with a separate value GRU): every parent entry is kept,
    with its Adam moments; the new units' gate rows are drawn within PyTorch's GRU bound 1/sqrt(24) and their
    moments are zero; what the old gates and the heads read from a new unit is zero, so the child plays the
    parent's logits and values on any trial; one update later the heads read the new units. A narrower child,
    or one with LayerNorm, is a one-line error."""
    from rl2lib.train import build_config_policy

    def config(*args):
        return config_from_args(build_parser().parse_args([*TINY, "--metalearn_epochs", "1", "--separate_value", *args]))

    train(config(), tmp_path / "narrow", progress=False)
    child = config("--hidden_size", "24", "--init_from", str(tmp_path / "narrow" / "checkpoint.pt"))
    train(child, tmp_path / "wide", progress=False, stop_after=0)
    parent = torch.load(tmp_path / "narrow" / "checkpoint.pt", weights_only=False)
    start = torch.load(tmp_path / "wide" / "checkpoint.pt", weights_only=False)

    def split(name, tensor):  # (the parent's entries, what the old gates or the heads read from a new unit, new rows)
        rows = tensor.reshape(3, 24, *tensor.shape[1:]) if "_gru." in name else tensor[None]  # (gates, rows, ...)
        old, new = rows[:, :16], rows[:, 16:]
        if name.endswith(("hh_l0", "head.weight")):
            return old[..., :16], old[..., 16:], new
        return old, old[..., :0], new

    for index, (name, _) in enumerate(build_config_policy(child).named_parameters()):
        old, read_new, new = split(name, start["model"][name])
        assert torch.equal(old.reshape(parent["model"][name].shape), parent["model"][name]) and not read_new.any(), name
        assert new.numel() == 0 or 0 < new.abs().min() and new.abs().max() <= 24**-0.5, name
        for key in ("exp_avg", "exp_avg_sq"):
            old, read_new, new = split(name, start["optimizer"]["state"][index][key])
            assert torch.equal(old.reshape(parent["model"][name].shape), parent["optimizer"]["state"][index][key]), name
            assert not read_new.any() and not new.any(), name
    played, plain = build_config_policy(child), build_config_policy(config())
    played.load_state_dict(start["model"]), plain.load_state_dict(parent["model"])
    obs = torch.rand(5, 3, plain.obs_size)  # (T, B, O)
    for ours, theirs in zip(played(obs), plain(obs)):
        torch.testing.assert_close(ours, theirs)
    train(child, tmp_path / "wide", progress=False)
    trained = torch.load(tmp_path / "wide" / "checkpoint.pt", weights_only=False)
    assert trained["model"]["policy_head.weight"][:, 16:].any() and trained["model"]["value_head.weight"][:, 16:].any()
    narrower = config("--hidden_size", "8", "--init_from", str(tmp_path / "narrow" / "checkpoint.pt"))
    normed = config("--hidden_size", "24", "--layer_norm", "--init_from", str(tmp_path / "narrow" / "checkpoint.pt"))
    for bad in (narrower, normed):
        with pytest.raises(TrainingError, match="another task or model, hidden_size"):
            train(bad, tmp_path / "bad", progress=False, stop_after=0)


def test_init_temperature_divides_the_parent_logits_and_keeps_its_values(tmp_path):
    """`--init_temperature 3 --init_from` a run: on any trial the child's logits are the parent's divided by 3 (so its
    entropy is higher) and its values the parent's; the Adam state is the parent's; without --init_from, or at 0,
    it is a one-line error that writes nothing."""
    from rl2lib.train import build_config_policy

    def config(*args):
        return config_from_args(build_parser().parse_args([*TINY, "--metalearn_epochs", "2", *args]))

    train(config(), tmp_path / "parent", progress=False)
    child = config("--init_from", str(tmp_path / "parent" / "checkpoint.pt"), "--init_temperature", "3")
    train(child, tmp_path / "child", progress=False, stop_after=0)
    parent = torch.load(tmp_path / "parent" / "checkpoint.pt", weights_only=False)
    start = torch.load(tmp_path / "child" / "checkpoint.pt", weights_only=False)
    assert start["config"]["init_temperature"] == 3
    played, plain = build_config_policy(child), build_config_policy(config())
    played.load_state_dict(start["model"]), plain.load_state_dict(parent["model"])
    obs = torch.rand(5, 4, plain.obs_size)  # (T, B, O)
    (logits, values), (parent_logits, parent_values) = played(obs), plain(obs)
    torch.testing.assert_close(logits * 3, parent_logits)
    torch.testing.assert_close(values, parent_values)
    entropy = torch.distributions.Categorical(logits=logits).entropy()
    assert (entropy > torch.distributions.Categorical(logits=parent_logits).entropy()).all()
    for moments, parent_moments in zip(start["optimizer"]["state"].values(), parent["optimizer"]["state"].values()):
        assert torch.equal(moments["exp_avg_sq"], parent_moments["exp_avg_sq"])
    alone = cli(*TINY, "--init_temperature", "3", "--run_dir", str(tmp_path / "alone"))
    frozen = cli(
        *TINY,
        "--init_from",
        str(tmp_path / "parent" / "checkpoint.pt"),
        "--init_temperature",
        "0",
        "--run_dir",
        str(tmp_path / "f"),
    )
    for result, words in ((alone, "give --init_from"), (frozen, "must be > 0")):
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "alone").exists()


def test_horizon_warm_start_takes_another_trial_length_and_restarts_the_normaliser(tmp_path):
    """`--init_from` a run with fewer (or more) episodes per trial (same task, k and model) starts from its
    weights and Adam state, with a fresh return normaliser that the child's first batch sets; a parent with
    another k, or a SNAIL of another depth, is a one-line error."""

    def config(*args):
        return config_from_args(build_parser().parse_args([*TINY, "--metalearn_epochs", "1", *args]))

    def started_from(parent_run, run):
        """`run`'s checkpoint (before its first update) holds `parent_run`'s weights and Adam steps, and a fresh
        normaliser where the parent's had counted returns."""
        parent, start = (torch.load(tmp_path / name / "checkpoint.pt", weights_only=False) for name in (parent_run, run))
        for name, tensor in parent["model"].items():
            assert torch.equal(start["model"][name], tensor), name
        assert parent["normalizer"]["count"] > 1 and start["normalizer"] == {"mean": 0.0, "var": 1.0, "count": 1e-4}
        assert start["optimizer"]["state"][0]["step"] == parent["optimizer"]["state"][0]["step"]

    train(config("--num_traj", "3"), tmp_path / "n3", progress=False)
    child = config("--num_traj", "5", "--init_from", str(tmp_path / "n3" / "checkpoint.pt"))
    train(child, tmp_path / "n5", progress=False, stop_after=0)
    started_from("n3", "n5")
    train(child, tmp_path / "n5", resume=True, progress=False)
    after = torch.load(tmp_path / "n5" / "checkpoint.pt", weights_only=False)["normalizer"]
    assert after["count"] == pytest.approx(1e-4 + 200)  # one batch of the child's returns (40 trials x 5)
    back = config("--num_traj", "2", "--init_from", str(tmp_path / "n5" / "checkpoint.pt"))  # n = 5 -> 2
    train(back, tmp_path / "n2", progress=False, stop_after=0)
    started_from("n5", "n2")
    other_k = config("--num_traj", "5", "--num_actions", "3", "--init_from", str(tmp_path / "n3" / "checkpoint.pt"))
    with pytest.raises(TrainingError, match=re.escape("another task or model, num_actions 5 (this run: 3)")):
        train(other_k, tmp_path / "bad", progress=False, stop_after=0)
    snail = ["--model_type", "snail", "--batch_size", "40", "--mini_batch_size", "40"]
    train(config(*snail, "--num_traj", "4"), tmp_path / "snail4", progress=False)  # T = 4: 2 dense blocks
    deeper = config(*snail, "--num_traj", "5", "--init_from", str(tmp_path / "snail4" / "checkpoint.pt"))  # 3
    with pytest.raises(TrainingError, match=r"ceil\(log2 T\)"):
        train(deeper, tmp_path / "snail5", progress=False, stop_after=0)
    narrower = config(*snail, "--num_traj", "4", "--snail_width", "8", "--init_from", str(tmp_path / "snail4" / "checkpoint.pt"))
    with pytest.raises(TrainingError, match=re.escape("snail_width 32 (this run: 8)")):
        train(narrower, tmp_path / "snail4narrow", progress=False, stop_after=0)
    assert not any((tmp_path / name).exists() for name in ("bad", "snail5", "snail4narrow"))
    # built at the longer trials' depth (--depth_len), the short-trial SNAIL warm-starts them
    train(config(*snail, "--num_traj", "4", "--depth_len", "8"), tmp_path / "snail4d8", progress=False)
    at_depth = config(*snail, "--num_traj", "8", "--depth_len", "8", "--init_from", str(tmp_path / "snail4d8" / "checkpoint.pt"))
    train(at_depth, tmp_path / "snail8", progress=False, stop_after=0)
    short = torch.load(tmp_path / "snail4d8" / "checkpoint.pt", weights_only=False)["model"]
    long = torch.load(tmp_path / "snail8" / "checkpoint.pt", weights_only=False)["model"]
    assert short.keys() == long.keys() and all(torch.equal(short[key], long[key]) for key in short)
    assert sum(key.startswith("policy_net.tc1.blocks.") and key.endswith("conv.weight") for key in short) == 3
    snail_back = config(*snail, "--num_traj", "4", "--depth_len", "8", "--init_from", str(tmp_path / "snail8" / "checkpoint.pt"))
    train(snail_back, tmp_path / "snail4back", progress=False, stop_after=0)  # and back from the longer trials at that depth
    back_model = torch.load(tmp_path / "snail4back" / "checkpoint.pt", weights_only=False)["model"]
    assert all(torch.equal(back_model[key], long[key]) for key in long)


def test_off_a_terminal_progress_is_plain_lines_with_the_validation_return(tmp_path):
    """Piped to a log, the trainer writes one plain line per validation and every PROGRESS_EVERY
    updates (return, validation return, steps/s), and no carriage-return progress bar."""
    args = [a for a in TINY if a != "--no_progress"]
    result = cli(
        *args, "--metalearn_epochs", "3", "--validate_every", "2", "--validate_trials", "20", "--run_dir", str(tmp_path / "run")
    )
    assert result.returncode == 0 and "\r" not in result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("update ")]
    assert [line.split()[1] for line in lines] == ["2/3", "3/3"]
    assert "validation" in lines[0] and "steps/s" in lines[0] and "validation" not in lines[1]


def test_resume_reads_the_runs_config_and_rejects_flags_that_disagree(tmp_path):
    """`--resume --run_dir DIR` alone continues a run trained with non-default flags; a flag that may
    change (--metalearn_epochs) extends it; one that disagrees, or a folder with no checkpoint, is a
    one-line error that leaves the run intact."""
    run = tmp_path / "run"
    assert cli(*TINY, "--metalearn_epochs", "2", "--tau", "0.5", "--num_actions", "3", "--run_dir", str(run)).returncode == 0
    extended = cli("--resume", "--run_dir", str(run), "--metalearn_epochs", "3", "--no_progress")
    assert extended.returncode == 0, extended.stderr
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=False)
    assert checkpoint["update"] == 3 and checkpoint["config"]["ppo"]["gae_lambda"] == 0.5
    assert checkpoint["config"]["task"]["num_actions"] == 3
    before = (run / "metrics.csv").read_text()
    disagrees = cli("--resume", "--run_dir", str(run), "--tau", "0.9", "--metalearn_epochs", "4")
    assert disagrees.returncode == 2 and "--tau 0.9 disagrees" in disagrees.stderr and "Traceback" not in disagrees.stderr
    agrees = cli("--resume", "--run_dir", str(run), "--tau", "0.5", "--num_actions", "3", "--no_progress")
    assert agrees.returncode == 0, agrees.stderr
    assert (run / "metrics.csv").read_text() == before
    empty = cli("--resume", "--run_dir", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "holds no checkpoint.pt" in empty.stderr and not (tmp_path / "empty").exists()


def test_a_bf16_run_resumes_in_fp32_and_says_so(tmp_path):
    """The update's precision may change on resume (a machine without native bfloat16, `ppo.native_bf16`):
    the run goes on from its checkpoint, says which updates ran in which precision, and records the new one;
    the trainer notes emulated bf16 exactly where the CPU lacks it."""
    from rl2lib.ppo import native_bf16

    run = tmp_path / "run"
    first = cli(*TINY, "--metalearn_epochs", "2", "--precision", "bf16", "--run_dir", str(run), "--no_progress")
    assert first.returncode == 0, first.stderr
    assert ("no native bfloat16" in first.stderr) == (not native_bf16(torch.device("cpu")))
    before = metrics_without_time(run / "metrics.csv")
    resumed = cli("--resume", "--run_dir", str(run), "--metalearn_epochs", "3", "--precision", "fp32", "--no_progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "updates 1-2 ran in bf16; the rest run in fp32" in resumed.stdout and "no native bfloat16" not in resumed.stderr
    checkpoint = torch.load(run / "checkpoint.pt", weights_only=False)
    assert checkpoint["update"] == 3 and checkpoint["config"]["precision"] == "fp32"
    assert json.loads((run / "config.json").read_text())["precision"] == "fp32"
    assert metrics_without_time(run / "metrics.csv")[:2] == before


def test_a_snail_played_at_another_trial_length_keeps_its_weights_and_its_causal_outputs(tmp_path):
    """Evaluated at another n, a SNAIL is rebuilt for the new trial length at its trained TCBlock depth:
    the same weights, and on the first T steps the same outputs as the network it was trained as."""
    from rl2lib.runs import load_policy

    args = [*TINY, "--metalearn_epochs", "1", "--model_type", "snail", "--batch_size", "40", "--mini_batch_size", "40"]
    train(config_from_args(build_parser().parse_args([*args, "--num_traj", "4"])), tmp_path / "run", progress=False)
    trained, config = load_policy(tmp_path / "run" / "checkpoint.pt")
    longer, _ = load_policy(tmp_path / "run" / "checkpoint.pt", task=replace(config.task, num_traj=9))
    assert longer.max_len == 9 and trained.state_dict().keys() == longer.state_dict().keys()
    obs = torch.randn(9, 3, config.task.obs_size)  # (T, B, O)
    with torch.no_grad():
        logits_short, values_short = trained(obs[:4])
        logits_long, values_long = longer(obs)
    assert torch.allclose(logits_short, logits_long[:4], atol=1e-6) and torch.allclose(values_short, values_long[:4], atol=1e-6)
    result = evaluate_checkpoint(tmp_path / "run" / "checkpoint.pt", num_trials=20, num_traj=9)
    assert result.task_config.num_traj == 9 and 0 <= result.mean <= 9


def test_model_flags_reach_the_network():
    """--layer_norm and --separate_value build the GRU the RL^2 reproductions used, --nonlinearity its candidate
    activation, --clock one more input; --depth_len sets
    SNAIL's DenseBlocks per TCBlock (ceil(log2 T')) whatever the trial length, --snail_width its widths."""
    from rl2lib.train import build_config_policy

    def policy(*args):
        return build_config_policy(config_from_args(build_parser().parse_args([*TINY, *args])))

    gru = policy("--layer_norm", "--separate_value")
    assert isinstance(gru.policy_norm, torch.nn.LayerNorm) and isinstance(gru.value_norm, torch.nn.LayerNorm)
    assert isinstance(policy().policy_norm, torch.nn.Identity)
    assert policy("--nonlinearity", "relu").activation is torch.relu and policy().activation is torch.tanh
    for model in ("gru", "snail"):  # --clock: one more input column, which the agent fills
        assert policy("--model_type", model, "--clock").obs_size == policy("--model_type", model).obs_size + 1
        assert policy("--model_type", model, "--clock").clock and not policy("--model_type", model).clock
    snail = policy("--model_type", "snail", "--num_traj", "5", "--depth_len", "100")  # T = 5, depth of T = 100
    assert len(snail.policy_net.tc1.blocks) == 7 and snail.max_len == 5
    for args, policy_width, value_width in (((), 32, 16), (("--snail_width", "64"), 64, 32)):  # [2]'s widths by default
        snail = policy("--model_type", "snail", *args)
        policy_net, value_net = snail.policy_net, snail.value_net
        assert policy_net.embed.out_features == policy_width and value_net.embed is None
        assert {block.filters for block in [*policy_net.tc1.blocks, *policy_net.tc2.blocks]} == {policy_width}
        assert (policy_net.attention.key_size, policy_net.attention.value_size) == (policy_width, policy_width)
        assert {block.filters for block in [*value_net.tc1.blocks, *value_net.tc2.blocks]} == {value_width}
        assert (value_net.attention.key_size, value_net.attention.value_size) == (value_width, value_width)
