"""Evaluation: an agent or a baseline -> total reward per trial on a seeded set of fresh tasks.

The reported number of [1] Tables 1-2 and [2] Tables 3-4 is the undiscounted total reward of one
trial averaged over 1000 trials, each on a new task; we report that mean with its standard error.
Seeds: tasks come from `seed`, the environment's noise from `seed + 1`, the agent's own randomness
from `seed + 2`, so the same seed gives the same tasks to every agent and the same numbers on
every run (a policy whose trials outgrow `PLAY_MEMORY_GIB` plays them in consecutive batches on
the same generators). Tuning uses its own seeds (`TUNING_SEED_OFFSET + seed`), never the evaluation tasks.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import lru_cache
from pathlib import Path

import torch

from rl2lib.agents import BaselineAgent, play_trials
from rl2lib.baselines import BASELINES, Baseline
from rl2lib.cli import cli_error, resolve_device
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.envs import TrialEnv, seeded_tasks
from rl2lib.rollout import RolloutBatch, collect_trials
from rl2lib.runs import TrainingError, agent_path, load_policy

TUNING_SEED_OFFSET = 1_000_000
PLAY_MEMORY_GIB = 12.0
"""The memory `play_policy` gives one batch of trials: the policy's step state and its inputs. More
trials play in consecutive batches on the same generators. Every committed evaluation fits in one
(the largest: SNAIL, k = 50, n = 500 on 10,000 tasks, 11.7 GiB), so its numbers stand; a change here
changes the numbers of the evaluations that do not."""


@dataclass
class EvalResult:
    """Totals of `num_trials` trials and their summary."""

    agent: str
    task_config: TaskConfig
    totals: torch.Tensor = field(repr=False)  # (N,) float64
    seed: int = 0
    param: float | int | None = None

    @property
    def num_trials(self) -> int:
        return self.totals.numel()

    @property
    def mean(self) -> float:
        return self.totals.mean().item()

    @property
    def se(self) -> float:
        """Standard error of the mean: sample standard deviation / sqrt(N)."""
        if self.num_trials < 2:
            return float("nan")
        return self.totals.std(unbiased=True).item() / math.sqrt(self.num_trials)

    def to_dict(self) -> dict:
        return {
            "agent": self.agent,
            **self.task_config.to_dict(),
            "num_trials": self.num_trials,
            "seed": self.seed,
            "param": self.param,
            "mean": self.mean,
            "se": self.se,
        }


def evaluation_generators(seed: int, device: torch.device | str = "cpu") -> tuple[torch.Generator, torch.Generator]:
    """(environment noise, agent randomness) generators for evaluation seed `seed`."""
    env_generator = torch.Generator(device=device).manual_seed(seed + 1)
    agent_generator = torch.Generator(device=device).manual_seed(seed + 2)
    return env_generator, agent_generator


def make_baseline(task_config: TaskConfig, name: str, param=None) -> Baseline:
    """Instantiate baseline `name` for the task with hyper-parameter `param` (None: its default).

    An unknown name is a one-line ConfigError naming the allowed ones; a `param` of the wrong type or
    out of the baseline's range a one-line ParameterError (`Baseline.check_param`).
    """
    table = BASELINES[task_config.task]
    if name not in table:
        raise ConfigError(
            f"unknown agent {name!r} for task {task_config.task!r}; allowed: "
            f"{', '.join(table)} or a checkpoint path ending in .pt"
        )
    return table[name](task_config, param)


def play_baseline(
    task_config: TaskConfig, name: str, param=None, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu"
):
    """Play baseline `name` on the `num_trials` seeded tasks of `seed`. Returns (agent, tasks, TrialRecord)."""
    agent = make_baseline(task_config, name, param)
    tasks = seeded_tasks(task_config, num_trials, seed, device)
    env_generator, agent_generator = evaluation_generators(seed, device)
    record = play_trials(BaselineAgent(agent, agent_generator), TrialEnv(tasks, task_config, env_generator))
    return agent, tasks, record


def evaluate_baseline(
    task_config: TaskConfig, name: str, param=None, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu"
) -> EvalResult:
    """Mean total reward per trial of baseline `name` (with hyper-parameter `param`) on seeded tasks."""
    agent, _, record = play_baseline(task_config, name, param, num_trials, seed, device)
    return EvalResult(name, task_config, record.totals.double().cpu(), seed, agent.param)


def tune_baseline(
    task_config: TaskConfig, name: str, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu"
) -> tuple[float | int | None, dict]:
    """Best value of the baseline's tuned hyper-parameter over its grid, on tuning seeds only.

    The setting tuned at is the baseline's `tuning_task` (MDP baselines tune at n <= 25 and carry the
    value over), with its `tuning_trials` trials per grid value; results are cached per setting.

    Returns (best value, {value: mean total on the tuning tasks}); (default, {}) when untuned.
    """
    agent_class = type(make_baseline(task_config, name))
    if not agent_class.param_grid:
        return agent_class.default_param, {}
    tuning_config = agent_class.tuning_task(task_config)
    return _tune(tuning_config, name, agent_class.tuning_trials(tuning_config, num_trials), seed, str(device))


def baseline_param(
    task_config: TaskConfig, name: str, param=None, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu"
):
    """`param` checked against baseline `name`'s range, or, when None, the value tuned over its grid on
    tuning seeds (`tune_baseline`, said on stdout); None for a baseline without a hyper-parameter."""
    agent = make_baseline(task_config, name, param)  # checks param before any tuning
    if param is None and agent.param_grid:
        param, _ = tune_baseline(task_config, name, num_trials, seed, device)
        print(f"tuned {agent.param_name} = {param} on tuning seeds")
    return param


@lru_cache(maxsize=None)
def _tune(task_config: TaskConfig, name: str, num_trials: int, seed: int, device: str):
    means = {}
    for value in make_baseline(task_config, name).param_grid:
        result = evaluate_baseline(task_config, name, value, num_trials, TUNING_SEED_OFFSET + seed, device)
        means[value] = result.mean
    best = max(means, key=means.get)
    return best, means


def play_policy(
    policy: torch.nn.Module,
    task_config: TaskConfig,
    num_trials: int = 1000,
    seed: int = 0,
    greedy: bool = False,
    device: torch.device | str = "cpu",
):
    """Play a trained policy on the seeded tasks of `seed`. Returns (tasks, RolloutBatch of (T, B)
    tensors); the value network is not stepped (the batch's values may be NaN): the same actions in
    a third less memory for SNAIL, whose caches grow with B * T. Trials beyond `trials_per_batch` play
    in consecutive batches on the same generators."""
    tasks = seeded_tasks(task_config, num_trials, seed, device)
    env_generator, action_generator = evaluation_generators(seed, device)
    policy = policy.to(device).eval()
    at_once = trials_per_batch(policy, task_config)
    parts = (
        [tasks] if num_trials <= at_once else [tasks.select(i) for i in torch.arange(num_trials, device=device).split(at_once)]
    )
    batches = [collect_trials(policy, part, task_config, env_generator, action_generator, greedy, values=False) for part in parts]
    return tasks, RolloutBatch.join(batches)


def trials_per_batch(policy: torch.nn.Module, task_config: TaskConfig) -> int:
    """How many trials `play_policy` plays at once: `PLAY_MEMORY_GIB` over the bytes of one trial's
    step state (without the value network) and inputs (T, O) as the agent keeps them."""
    state = policy.initial_state(1, "cpu", values=False)
    per_trial = tensor_bytes(state) + task_config.trial_len * policy.obs_size * torch.float32.itemsize
    return max(1, int(PLAY_MEMORY_GIB * 2**30 // per_trial))


def tensor_bytes(value) -> int:
    """Bytes of the tensors in `value`: a tensor, or a dataclass holding them (nested); 0 for anything else."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    return sum(tensor_bytes(getattr(value, item.name)) for item in fields(value)) if is_dataclass(value) else 0


def evaluate_policy(
    policy: torch.nn.Module,
    task_config: TaskConfig,
    num_trials: int = 1000,
    seed: int = 0,
    greedy: bool = False,
    device: torch.device | str = "cpu",
    name: str = "policy",
) -> EvalResult:
    """Mean total reward per trial of a trained policy on the same seeded tasks the baselines get."""
    _, batch = play_policy(policy, task_config, num_trials, seed, greedy, device)
    return EvalResult(name, task_config, batch.totals.double().cpu(), seed, None)


def evaluate_checkpoint(
    path: Path | str,
    num_trials: int = 1000,
    seed: int = 0,
    greedy: bool = False,
    device: torch.device | str = "cpu",
    task: str | None = None,
    num_actions: int | None = None,
    num_traj: int | None = None,
) -> EvalResult:
    """Evaluate a checkpoint written by `rl2lib.train`. Task settings default to the checkpoint's
    (`load_checked_policy`)."""
    policy, task_config = load_checked_policy(path, device, task, num_actions, num_traj)
    return evaluate_policy(policy, task_config, num_trials, seed, greedy, device, name=str(path))


def load_checked_policy(
    path: Path | str,
    device: torch.device | str = "cpu",
    task: str | None = None,
    num_actions: int | None = None,
    num_traj: int | None = None,
) -> tuple[torch.nn.Module, TaskConfig]:
    """The policy of a checkpoint and the task to play it on: the checkpoint's, at `num_traj` if given.

    A different task or number of actions than the checkpoint was trained on is a ConfigError; a
    different n is allowed (it asks how the agent generalises; a SNAIL keeps its TCBlock depth).
    """
    try:
        policy, config = load_policy(path, device)
    except TrainingError as error:
        raise ConfigError(str(error)) from None
    trained = config.task
    if task is not None and task != trained.task:
        raise ConfigError(f"{path} was trained on task {trained.task!r}, not {task!r}")
    if num_actions is not None and num_actions != trained.num_actions:
        raise ConfigError(f"{path} was trained with num_actions={trained.num_actions}, not {num_actions}")
    task_config = trained if num_traj is None else replace(trained, num_traj=num_traj)
    if task_config != trained:  # played at another n: a SNAIL is rebuilt for it at its trained depth
        policy, _ = load_policy(path, device, task=task_config)
    return policy, task_config


def number(text: str) -> int | float:
    """A `--param` value: an int where the text is one ("3"), else a float ("0.5", "1e-3").

    Counts (ots's and opsrl's num_samples) take only ints; `Baseline.check_param` checks the range.
    """
    try:
        return int(text)
    except ValueError:
        return float(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rl2lib.evaluate",
        description="Mean total reward per trial of a baseline or a trained agent on fresh seeded tasks.",
    )
    parser.add_argument("--task", default=None, help="bandit or mdp (default bandit; a checkpoint's own task)")
    parser.add_argument("--num_actions", type=int, default=None, help="k arms / MDP actions (default 5)")
    parser.add_argument("--num_traj", type=int, default=None, help="n episodes per trial (default 10)")
    parser.add_argument("--traj_len", type=int, default=None, help="episode length (1 for bandits, 10 for MDPs)")
    parser.add_argument(
        "--agent",
        required=True,
        help="a baseline name, a checkpoint path (.pt) or a run folder (then what its evaluation plays: "
        "best.pt when the run validated, else checkpoint.pt, looked up when the evaluation starts)",
    )
    parser.add_argument(
        "--param",
        type=number,
        default=None,
        help="the baseline's hyper-parameter (an integer for a count, e.g. ots's num_samples); "
        "omitted: tuned over the papers' grid on tuning seeds",
    )
    parser.add_argument("--num_trials", type=int, default=1000, help="trials (= tasks) to average over (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="evaluation seed (default 0)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result to this JSON file")
    parser.add_argument(
        "--greedy",
        action="store_true",
        help="trained agents: argmax actions instead of sampling from the policy (the tables sample)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    return parser


def main(argv: list[str] | None = None) -> EvalResult:
    args = build_parser().parse_args(argv)
    try:
        if args.num_trials < 1:
            raise ConfigError(f"num_trials must be >= 1, got {args.num_trials}")
        device = resolve_device(args.device)
        checkpoint = agent_path(Path(args.agent)) if Path(args.agent).is_dir() else Path(args.agent)
        if checkpoint.suffix == ".pt":
            result = evaluate_checkpoint(
                checkpoint,
                args.num_trials,
                args.seed,
                args.greedy,
                device,
                task=args.task,
                num_actions=args.num_actions,
                num_traj=args.num_traj,
            )
        else:
            task_config = TaskConfig(
                task=args.task or "bandit",
                num_actions=5 if args.num_actions is None else args.num_actions,
                num_traj=10 if args.num_traj is None else args.num_traj,
                traj_len=args.traj_len,
            )
            param = baseline_param(task_config, args.agent, args.param, args.num_trials, args.seed, device)
            result = evaluate_baseline(task_config, args.agent, param, args.num_trials, args.seed, device)
    except ConfigError as error:
        cli_error(str(error))
    print(
        f"{result.agent} on {result.task_config.task} (k={result.task_config.num_actions}, "
        f"n={result.task_config.num_traj}): mean {result.mean:.3f} +- {result.se:.3f} (SE) "
        f"over {result.num_trials} trials, seed {result.seed}"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        played = {"played": checkpoint.name} if checkpoint.suffix == ".pt" else {}  # eval.json's schema
        args.json.write_text(json.dumps({**result.to_dict(), **played}, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
