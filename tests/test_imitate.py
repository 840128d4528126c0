"""Behaviour cloning of a baseline (`rl2lib.imitate`): the inputs it records, its value targets, that it
learns the teacher, that PPO starts from what it wrote, that a cut-off run resumes, and its one-line errors."""

import csv
import subprocess
import sys
from dataclasses import replace

import torch

from rl2lib.agents import play_trials
from rl2lib.cli import build_parser, config_from_args
from rl2lib.config import PPOConfig, TaskConfig
from rl2lib.envs import TrialEnv, seeded_tasks
from rl2lib.evaluate import make_baseline
from rl2lib.imitate import ImitationSettings, RecordingAgent, imitate
from rl2lib.ppo import advantages_and_targets
from rl2lib.train import train

TINY = ["--num_actions", "2", "--num_traj", "5", "--batch_size", "200", "--mini_batch_size", "100", "--hidden_size", "16"]
TINY += ["--ppo_epochs", "2", "--metalearn_epochs", "1", "--no_progress", "--num_workers", "1"]


def student_run(tmp_path, *flags):
    """A tiny trained run to imitate into."""
    config = config_from_args(build_parser().parse_args([*TINY, *flags]))
    train(config, tmp_path / "student", progress=False)
    return tmp_path / "student"


def test_the_recorded_inputs_are_the_rl2_inputs_of_the_teachers_steps():
    """Rebuilt by hand from the trial record: [one-hot state | one-hot previous action | previous reward | episode
    ended], with the clock (steps left over T) last; the first step's is state 0, action 0, reward 0, flag 1."""
    config = TaskConfig(task="mdp", num_traj=3)
    tasks = seeded_tasks(config, 7, seed=3)
    agent = RecordingAgent(make_baseline(config, "random"), torch.Generator().manual_seed(1), config.obs_size + 1, clock=True)
    record = play_trials(agent, TrialEnv(tasks, config, torch.Generator().manual_seed(2)))
    T, S, A = config.trial_len, config.num_states, config.num_actions
    for t in range(T):
        for b in range(7):
            expected = torch.zeros(config.obs_size + 1)
            expected[record.states[t, b]] = 1.0
            expected[S + (record.actions[t - 1, b] if t else 0)] = 1.0
            expected[S + A] = record.rewards[t - 1, b] if t else 0.0
            expected[S + A + 1] = float(record.episode_done[t - 1]) if t else 1.0
            expected[-1] = (T - t) / T
            assert torch.allclose(agent.inputs.obs[t, b], expected), (t, b)


def test_monte_carlo_targets_are_the_returns_to_go_per_step_left():
    """With the value head's outputs at zero and lambda 1, the targets are sum_l gamma^l r_{t+l}, divided by the
    discounted count of steps left when the head is per step; a naive double loop gives the same."""
    rewards = torch.rand(6, 3, generator=torch.Generator().manual_seed(0))  # (T, B)
    for per_step in (False, True):
        cfg = PPOConfig(gamma=0.9, gae_lambda=1.0, value_per_step=per_step)
        advantages, targets = advantages_and_targets(rewards, torch.zeros_like(rewards), cfg)
        for t in range(6):
            to_go = sum(0.9**lag * rewards[t + lag] for lag in range(6 - t))
            left = sum(0.9**lag for lag in range(6 - t))
            assert torch.allclose(advantages[t], to_go)
            assert torch.allclose(targets[t], to_go / left if per_step else to_go)


def test_the_student_learns_the_teacher_and_ppo_starts_from_what_it_wrote(tmp_path):
    student = student_run(tmp_path)
    settings = ImitationSettings(str(student), "gittins", 0.9, num_steps=200, trials_per_step=100, learning_rate=0.01)
    history = imitate(replace(settings, validate_every=100, checkpoint_every=100), tmp_path / "imitation", progress=False)
    assert history[0]["agreement"] < 0.9 < sum(row["agreement"] for row in history[-5:]) / 5
    assert history[-1]["policy_loss"] < history[0]["policy_loss"] / 2
    assert "validation_return" in history[99] and (tmp_path / "imitation" / "best.pt").exists()
    assert not (tmp_path / "imitation" / "config.json").exists()  # never a cell's run in the tables
    imitated = torch.load(tmp_path / "imitation" / "checkpoint.pt", weights_only=False)
    child_flags = [*TINY, "--init_from", str(tmp_path / "imitation" / "checkpoint.pt")]
    child = config_from_args(build_parser().parse_args(child_flags))
    train(child, tmp_path / "child", progress=False, stop_after=0)
    start = torch.load(tmp_path / "child" / "checkpoint.pt", weights_only=False)
    assert all(torch.equal(start["model"][name], tensor) for name, tensor in imitated["model"].items())
    assert start["normalizer"] == imitated["normalizer"]


def test_a_cut_off_imitation_resumes_to_the_same_weights(tmp_path):
    student = student_run(tmp_path)
    settings = ImitationSettings(str(student), "ucb1", num_steps=4, trials_per_step=20, validate_every=2, checkpoint_every=2)
    imitate(settings, tmp_path / "whole", progress=False)
    imitate(replace(settings, num_steps=2), tmp_path / "cut", progress=False)
    imitate(settings, tmp_path / "cut", resume=True, progress=False)

    def rows(name):
        with open(tmp_path / name / "metrics.csv") as handle:
            return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in csv.DictReader(handle)]

    assert rows("cut") == rows("whole") and len(rows("whole")) == 4
    a, b = (torch.load(tmp_path / name / "checkpoint.pt", weights_only=False)["model"] for name in ("cut", "whole"))
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_bad_input_is_a_one_line_error(tmp_path):
    student = student_run(tmp_path)

    def run(*args):
        command = [sys.executable, "-m", "rl2lib.imitate", "--run_dir", str(tmp_path / "out"), "--no_progress", *args]
        return subprocess.run(command, capture_output=True, text=True)

    cases = [
        (["--student", str(student), "--teacher", "psrl"], "unknown agent 'psrl' for task 'bandit'"),
        (["--student", str(student), "--teacher", "gittins", "--teacher_param", "1.5"], "discount of gittins"),
        (["--student", str(tmp_path / "nowhere")], "does not exist"),
        (["--student", str(student), "--num_steps", "0"], "num_steps must be >= 1"),
        (["--student", str(student), "--resume"], "holds no checkpoint.pt"),
    ]
    for args, fragment in cases:
        result = run(*args)
        assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "checkpoint.pt").exists()
