"""Behaviour cloning of a baseline into a trained run's network: a diagnostic of a plateau, not a recipe.

From a run's policy (the student), each step plays B fresh training tasks with a baseline (the teacher,
`rl2lib.baselines`, such as Gittins' index policy, [1] Sec. 3.1), keeps the input the student would have
read at each step (`rl2lib.agents.InputLog`), and takes one Adam step on the cross-entropy of the
student's policy to the teacher's actions plus `vf_coef` times the squared error of its value head to
the teacher's discounted returns-to-go, in the head's units and normalised as PPO's targets are
(`rl2lib.ppo.advantages_and_targets` with lambda 1). The run folder it writes holds checkpoint.pt in the
trainer's format with the student's config, best.pt at the best validation return (held-out tasks, as
the trainer's) and metrics.csv, but no config.json, so that the tables and the report never take it for
a trained run: a learner cell is learned from reward alone ([1] Sec. 2). `rl2-train --init_from` then
lets PPO go on from the teacher's play, which tells a plateau that PPO's updates cannot leave (PPO keeps
the teacher's return) from one that its objective prefers (PPO goes back to it). `imitation.json` keeps
the settings, and a run cut off resumes from its checkpoint with `--resume`.
References: [1] Duan et al. 2016, "RL^2".
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from rl2lib.agents import BaselineAgent, InputLog, play_trials
from rl2lib.cli import cli_error
from rl2lib.config import ConfigError, TrainConfig
from rl2lib.envs import TrialEnv, sample_tasks
from rl2lib.evaluate import make_baseline
from rl2lib.loop import UpdateLog
from rl2lib.models import build_policy
from rl2lib.paths import portable_path, repo_path
from rl2lib.ppo import ReturnNormalizer, advantages_and_targets, update_autocast
from rl2lib.runs import (
    CHECKPOINT_FILE,
    IMITATION_FILE,
    METRIC_FIELDS,
    METRICS_FILE,
    TrainingError,
    agent_path,
    check_run_dir,
    load_checkpoint,
    read_imitation,
    save_atomic,
    trainer_checkpoint,
    training_lock,
    write_imitation,
    write_metrics,
)
from rl2lib.train import training_generators, validate

FIELDS = (*METRIC_FIELDS, "agreement")
"""metrics.csv's columns: the trainer's (policy_loss is the cross-entropy to the teacher's actions,
mean_trial_return the teacher's), and the share of steps where the student's likeliest action is the teacher's."""
RESUMABLE = ("num_steps", "checkpoint_every")
"""The settings a resumed imitation may change."""


@dataclass(frozen=True)
class ImitationSettings:
    """One imitation run: the student run folder (or checkpoint) whose network learns, the teacher baseline
    and its hyper-parameter (None: the baseline's default), and the optimisation."""

    student: str
    teacher: str
    teacher_param: float | None = None
    num_steps: int = 1000
    trials_per_step: int = 500
    learning_rate: float = 3e-4
    validate_every: int = 50
    checkpoint_every: int = 50
    seed: int = 0

    def check(self) -> None:
        """One-line ConfigErrors for counts and rates out of range."""
        for name in ("num_steps", "trials_per_step", "validate_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate}")


class RecordingAgent(BaselineAgent):
    """A baseline that also keeps, per step, what a policy reading `obs_size` inputs (and the clock) would read."""

    def __init__(self, baseline, generator: torch.Generator, obs_size: int, clock: bool):
        super().__init__(baseline, generator)
        self.obs_size, self.clock = obs_size, clock

    def start(self, env: TrialEnv, obs: torch.Tensor) -> None:
        super().start(env, obs)
        self.inputs = InputLog(env, self.obs_size, self.clock, obs)

    def prepare(self, env: TrialEnv) -> None:
        self.inputs.write(env.step_in_trial)
        super().prepare(env)

    def observe(self, states, actions, result) -> None:
        super().observe(states, actions, result)
        self.inputs.next_obs = result.obs


def imitation_loss(policy: torch.nn.Module, obs, actions, value_targets, vf_coef: float, precision: str) -> dict:
    """The student's loss on B teacher trials: obs (T, B, O), actions (T, B), value_targets (T, B) normalised.
    Returns the loss and, detached, its terms, the policy's entropy and the agreement with the teacher."""
    with update_autocast(precision, obs.device):
        logits, values = policy(obs)  # (T, B, A), (T, B)
    logits, values = logits.float(), values.float()
    cross_entropy = F.cross_entropy(logits.flatten(0, 1), actions.flatten())
    value_loss = 0.5 * ((values - value_targets) ** 2).mean()
    with torch.no_grad():
        log_probs = torch.log_softmax(logits, -1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean().item()
        agreement = (logits.argmax(-1) == actions).float().mean().item()
    return {
        "loss": cross_entropy + vf_coef * value_loss,
        "policy_loss": cross_entropy.item(),
        "value_loss": value_loss.item(),
        "entropy": entropy,
        "agreement": agreement,
    }


def imitate(settings: ImitationSettings, run_dir: Path, resume: bool = False, progress: bool = True) -> list[dict]:
    """Run `settings` into `run_dir` (module docstring). Returns the metrics rows."""
    settings.check()
    run_dir = Path(run_dir)
    with training_lock(run_dir):
        return imitate_locked(settings, run_dir, resume, progress)


def imitate_locked(settings: ImitationSettings, run_dir: Path, resume: bool, progress: bool) -> list[dict]:
    """`imitate`, once it holds the run folder's lock."""
    checkpoint_path, device = run_dir / CHECKPOINT_FILE, torch.device("cpu")
    student_path = repo_path(settings.student)
    student = load_checkpoint(agent_path(student_path) if student_path.is_dir() else student_path)
    config = replace(TrainConfig.from_dict(student["config"]), init_from=portable_path(student_path), seed=settings.seed)
    policy = build_student(config, student["model"])
    optimizer = torch.optim.Adam(policy.parameters(), lr=settings.learning_rate, eps=config.ppo.adam_eps)
    normalizer = ReturnNormalizer(config.ppo.norm_returns)
    normalizer.load_state_dict(student["normalizer"])
    generators = {**training_generators(config, device), "teacher": torch.Generator().manual_seed(settings.seed + 5)}
    history, start, best = [], 0, -math.inf
    if resume:
        checkpoint = load_checkpoint(checkpoint_path)
        saved = {**(read_imitation(run_dir) or {}), **{name: getattr(settings, name) for name in RESUMABLE}}
        if saved != asdict(settings):
            raise TrainingError(f"{run_dir} holds an imitation with other settings ({IMITATION_FILE}); use a new --run_dir")
        policy.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        normalizer.load_state_dict(checkpoint["normalizer"])
        for name, state in checkpoint["generators"].items():
            generators[name].set_state(state)
        history, start, best = checkpoint["metrics"], checkpoint["update"], checkpoint["best_validation"]
    write_imitation(run_dir, asdict(settings))
    write_metrics(run_dir / METRICS_FILE, history, FIELDS)
    teacher = make_baseline(config.task, settings.teacher, settings.teacher_param)
    target_config = replace(config.ppo, gae_lambda=1.0)  # Monte Carlo returns-to-go of the teacher's play
    steps_per_step = settings.trials_per_step * config.task.trial_len

    def save(update: int, path: Path) -> None:
        offsets = {"env_steps": 0, "wall_seconds": 0.0}
        save_atomic(
            trainer_checkpoint(config, update, policy, optimizer, normalizer, generators, history, log.best_validation, offsets),
            path,
        )

    log = UpdateLog(
        run_dir,
        total=settings.num_steps,
        start=start,
        end=settings.num_steps,
        checkpoint_every=settings.checkpoint_every,
        steps_per_update=steps_per_step,
        history=history,
        best_validation=best,
        wall_offset=history[-1]["wall_seconds"] if history else 0.0,
        fields=FIELDS,
        save=save,
        progress=progress,
        desc=f"{config.model.model_type} imitating {settings.teacher}",
    )
    for step in log:
        tasks = sample_tasks(config.task, settings.trials_per_step, generators["tasks"])
        agent = RecordingAgent(teacher, generators["teacher"], policy.obs_size, policy.clock)
        record = play_trials(agent, TrialEnv(tasks, config.task, generators["env"]))
        rewards = record.rewards.float()  # (T, B)
        _, targets = advantages_and_targets(rewards, torch.zeros_like(rewards), target_config)
        normalizer.update(targets)
        terms = imitation_loss(
            policy, agent.inputs.obs, record.actions, normalizer.normalize(targets), config.ppo.vf_coef, config.precision
        )
        optimizer.zero_grad(set_to_none=True)
        terms.pop("loss").backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), config.ppo.max_grad_norm)
        optimizer.step()
        row = {
            "update": step + 1,
            "env_steps": (step + 1) * steps_per_step,
            "wall_seconds": round(log.wall(), 3),
            "mean_trial_return": record.totals.mean().item(),
            **terms,
            "learning_rate": settings.learning_rate,
        }
        if (step + 1) % settings.validate_every == 0:
            row["validation_return"], row["validation_se"] = validate(policy, config, device)
        log.record(row)
    log.close()
    return history


def build_student(config: TrainConfig, weights: dict) -> torch.nn.Module:
    """The student's network with `weights`, in training mode."""
    policy = build_policy(config.task, config.model)
    policy.load_state_dict(weights)
    return policy.train()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rl2lib.imitate", description=__doc__.split(":")[0] + ".")
    parser.add_argument(
        "--student", required=True, help="the run folder (its best.pt, else checkpoint.pt) or checkpoint whose network learns"
    )
    parser.add_argument("--teacher", default="gittins", help="the baseline imitated (default gittins)")
    parser.add_argument("--teacher_param", type=float, default=None, help="its hyper-parameter (default: the baseline's)")
    parser.add_argument("--run_dir", type=Path, required=True, help="where the imitation is written")
    parser.add_argument("--resume", action="store_true", help="continue the imitation in --run_dir")
    defaults = ImitationSettings("", "")
    for name in ("num_steps", "trials_per_step", "validate_every", "checkpoint_every", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name), help=f"default {getattr(defaults, name)}")
    parser.add_argument("--learning_rate", type=float, default=defaults.learning_rate, help=f"default {defaults.learning_rate}")
    parser.add_argument("--num_workers", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar or lines")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = ImitationSettings(
        args.student,
        args.teacher,
        args.teacher_param,
        args.num_steps,
        args.trials_per_step,
        args.learning_rate,
        args.validate_every,
        args.checkpoint_every,
        args.seed,
    )
    try:
        if args.num_workers < 1:
            raise ConfigError(f"num_workers must be >= 1, got {args.num_workers}")
        torch.set_num_threads(args.num_workers)
        check_run_dir(args.run_dir, args.resume)
        history = imitate(settings, args.run_dir, args.resume, progress=not args.no_progress)
    except (ConfigError, TrainingError) as error:
        cli_error(str(error))
    agreement, checkpoint = history[-1]["agreement"], args.run_dir / CHECKPOINT_FILE
    print(f"done: {len(history)} steps, agreement with {settings.teacher} {agreement:.3f}; checkpoint {checkpoint}")


if __name__ == "__main__":
    main()
