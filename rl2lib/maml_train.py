"""Training runs of the MAML learner (`rl2lib.maml`, the third column of [2] Tables 3-4) with the
trainer's conventions: a run folder `results/runs/maml_<task>_k<k>_n<n>` holding config.json,
metrics.csv, checkpoint.pt (resumable, bit for bit: it keeps the optimiser and the random streams)
and best.pt (the best validation return on the held-out tasks of `train.VALIDATION_SEED`), the
same progress lines, `run_maml_cell` for the notebook `09_maml` (train or load, then the tables'
evaluation into eval.json and the campaign's confirmation into confirm.json), and the command line
`rl2-maml`. A run's config.json has the trainer's layout ({"task", "model": {"model_type": "maml",
...}, ...}) so that the tables group MAML runs like the others.
References: [1] Finn et al. 2017, "MAML", arXiv:1703.03400; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from rl2lib.campaign import CONFIRM_SEED, CONFIRM_TRIALS
from rl2lib.cli import cli_error, flag_argv, resolve_device
from rl2lib.config import TASK_NAMES, ConfigError, TaskConfig
from rl2lib.envs import sample_tasks
from rl2lib.evaluate import EvalResult
from rl2lib.experiment import CellResult
from rl2lib.maml import MAMLAgent, MAMLConfig, adaptation_episodes, evaluate_maml, one_step_ceiling, outer_step, played_config
from rl2lib.paper import published_learner
from rl2lib.paths import default_run_name, results_dir, run_name_for
from rl2lib.runs import (
    CHECKPOINT_FILE,
    CONFIRM_FILE,
    EVAL_FILE,
    METRICS_FILE,
    TrainingError,
    agent_path,
    check_run_dir,
    save_atomic,
    write_config,
    write_evaluation,
    write_metrics,
)
from rl2lib.runs import load_checkpoint as load_run_checkpoint
from rl2lib.loop import UpdateLog
from rl2lib.train import VALIDATION_SEED

MODEL_TYPE = MAMLConfig().model_type
CHECKPOINT_FORMAT = "rl2lib-maml-1"
METRIC_FIELDS = (
    "update",
    "env_steps",
    "wall_seconds",
    "mean_trial_return",
    "pre_reward",
    "post_reward",
    "policy_loss",
    "kl",
    "entropy",
    "clip_frac",
    "epochs",
    "validation_return",
    "validation_se",
)
EXTENDABLE_FIELDS = ("num_updates", "checkpoint_every", "validate_every", "validate_trials")


@dataclass(frozen=True)
class MAMLTrainConfig:
    """One MAML training run: the task, the learner and the run's bookkeeping."""

    task: TaskConfig = TaskConfig()
    model: MAMLConfig = field(default_factory=MAMLConfig)
    num_updates: int = 200
    """Outer steps ([1] App. A.2: up to 500 meta-iterations)."""
    seed: int = 0
    """Seeds the initialisation, the tasks, the environment noise, the actions and the minibatches."""
    checkpoint_every: int = 10
    """Write checkpoint.pt every this many outer steps (and at the end)."""
    validate_every: int = 10
    """Play the held-out validation tasks every this many outer steps, keeping the best as best.pt; 0: never."""
    validate_trials: int = 1000
    """Validation tasks (trials)."""

    def __post_init__(self) -> None:
        checks = [
            (self.num_updates >= 1, f"num_updates must be >= 1, got {self.num_updates}"),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (self.checkpoint_every >= 1, f"checkpoint_every must be >= 1, got {self.checkpoint_every}"),
            (self.validate_every >= 0, f"validate_every must be >= 0, got {self.validate_every}"),
            (self.validate_trials >= 1, f"validate_trials must be >= 1, got {self.validate_trials}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        adaptation_episodes(self.task, self.model)

    @property
    def steps_per_update(self) -> int:
        """Environment steps of one outer step, the unscored adaptation trials included."""
        return self.model.meta_batch_tasks * played_config(self.task, self.model).trial_len

    def to_dict(self) -> dict:
        """The trainer's layout: the model's fields under "model", with its model_type."""
        data = asdict(self)
        data["model"] = {"model_type": MODEL_TYPE, **data["model"]}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "MAMLTrainConfig":
        model = {key: value for key, value in data["model"].items() if key != "model_type"}
        return cls(
            task=TaskConfig(**data["task"]),
            model=MAMLConfig(**model),
            **{key: value for key, value in data.items() if key not in ("task", "model")},
        )


def make_agent(config: MAMLTrainConfig, device: torch.device | str = "cpu") -> MAMLAgent:
    """A fresh agent, initialised from the run's seed (the global random stream is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        agent = MAMLAgent(config.task, config.model)
    agent.policy.to(device)
    return agent


def load_checkpoint(path: Path) -> dict:
    """A checkpoint written by `train_maml`; a missing or foreign file is a one-line TrainingError."""
    return load_run_checkpoint(path, CHECKPOINT_FORMAT)


def load_maml(path: Path, device: torch.device | str = "cpu") -> tuple[MAMLAgent, MAMLTrainConfig]:
    """The agent and run config of a checkpoint (checkpoint.pt or best.pt) written by `train_maml`."""
    checkpoint = load_checkpoint(Path(path))
    config = MAMLTrainConfig.from_dict(checkpoint["config"])
    agent = make_agent(config, device)
    agent.policy.load_state_dict(checkpoint["model"])
    return agent, config


def same_run(saved: dict, new: dict) -> bool:
    """A resumed run may only change how long it runs, how often it checkpoints and how it validates."""
    saved = MAMLTrainConfig.from_dict(saved).to_dict()
    return all(saved.get(key) == new.get(key) for key in set(saved) | set(new) if key not in EXTENDABLE_FIELDS)


def train_maml(
    config: MAMLTrainConfig,
    run_dir: Path,
    resume: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
) -> list[dict]:
    """Train MAML for `config.num_updates` outer steps ([1] Alg. 3, `rl2lib.maml.outer_step`), each on
    `meta_batch_tasks` fresh tasks, writing `run_dir` as `rl2lib.train.train` does.

    Args:
        resume: continue from `run_dir`/checkpoint.pt (same config but for `EXTENDABLE_FIELDS`).
        stop_after: stop (with a checkpoint) after this many updates in total; used to test resuming.

    Returns:
        history: one dict per outer step (the rows of metrics.csv).
    """
    device, run_dir = torch.device(device), Path(run_dir)
    checkpoint_path, metrics_path = run_dir / CHECKPOINT_FILE, run_dir / METRICS_FILE
    agent = make_agent(config, device)
    optimizer = torch.optim.Adam(agent.policy.parameters(), lr=config.model.learning_rate, eps=1e-5)
    generators = {
        name: torch.Generator(device=device).manual_seed(config.seed * 10 + offset)
        for offset, name in enumerate(("tasks", "env", "actions", "minibatches"))
    }
    history, start, best_validation = [], 0, -math.inf
    if resume and checkpoint_path.exists():
        checkpoint = load_checkpoint(checkpoint_path)
        if not same_run(checkpoint["config"], config.to_dict()):
            raise TrainingError(f"{checkpoint_path} was written with another config; use a new --run_dir")
        agent.policy.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        for name, state in checkpoint["generators"].items():
            generators[name].set_state(state)
        history, start, best_validation = checkpoint["metrics"], checkpoint["update"], checkpoint["best_validation"]
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, config.to_dict())
    write_metrics(metrics_path, history, METRIC_FIELDS)

    def save_checkpoint(update: int, path: Path = checkpoint_path) -> None:
        save_atomic(
            {
                "format": CHECKPOINT_FORMAT,
                "config": config.to_dict(),
                "update": update,
                "model": agent.policy.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generators": {name: g.get_state() for name, g in generators.items()},
                "metrics": history,
                "best_validation": log.best_validation,
            },
            path,
        )

    end = config.num_updates if stop_after is None else min(stop_after, config.num_updates)
    t = config.task
    log = UpdateLog(
        run_dir,
        total=config.num_updates,
        start=start,
        end=end,
        checkpoint_every=config.checkpoint_every,
        steps_per_update=config.steps_per_update,
        history=history,
        best_validation=best_validation,
        wall_offset=history[-1]["wall_seconds"] if history else 0.0,
        fields=METRIC_FIELDS,
        save=save_checkpoint,
        progress=progress,
        desc=f"maml on {t.task} k={t.num_actions} n={t.num_traj}",
    )
    for update in log:
        tasks = sample_tasks(config.task, config.model.meta_batch_tasks, generators["tasks"])
        stats = outer_step(agent, optimizer, tasks, generators)
        row = {
            "update": update + 1,
            "env_steps": (update + 1) * config.steps_per_update,
            "wall_seconds": round(log.wall(), 3),
            **stats,
        }
        if config.validate_every and (update + 1) % config.validate_every == 0:
            result = evaluate_maml(agent, config.validate_trials, VALIDATION_SEED, device)
            row["validation_return"], row["validation_se"] = result.mean, result.se
        log.record(row)
    log.close()
    return history


def evaluate_run(
    run_dir: Path, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu", confirm: bool = True
) -> tuple[MAMLTrainConfig, EvalResult]:
    """The tables' evaluation of a run (best.pt where it validated) into eval.json, and with `confirm` the
    campaign's confirming one (`CONFIRM_TRIALS` tasks of `CONFIRM_SEED`) into confirm.json."""
    agent, trained = load_maml(agent_path(run_dir), device)
    evaluation = evaluate_maml(agent, num_trials, seed, device, name=run_dir.name)
    write_evaluation(run_dir, evaluation.to_dict(), EVAL_FILE)
    if confirm:
        confirmation = evaluate_maml(agent, CONFIRM_TRIALS, CONFIRM_SEED, device, name=run_dir.name)
        write_evaluation(run_dir, confirmation.to_dict(), CONFIRM_FILE)
    return trained, evaluation


def run_maml_cell(
    task: str,
    num_actions: int,
    num_traj: int,
    num_updates: int = 200,
    name: str | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    progress: bool = True,
    allow_training: bool = True,
    train_seed: int = 0,
    device: str = "cpu",
    confirm: bool = True,
    **maml,
) -> CellResult:
    """Train, resume or load the MAML run of one table cell, then evaluate it like every other cell.

    Args:
        num_updates: the budget in outer steps; a run that already holds this many is loaded as it is.
        name, seed, train_seed, device, allow_training: as in `rl2lib.experiment.run_cell`.
        confirm: also write confirm.json, the campaign's confirming evaluation (10,000 tasks of another seed).
        maml: `MAMLConfig` fields (inner_lr, adapt_episodes, hidden_sizes, meta_batch_tasks, ...).

    Returns:
        CellResult; eval.json of the run holds the evaluation (best.pt where the run validated).
    """
    task_config = TaskConfig(task=task, num_actions=num_actions, num_traj=num_traj)
    config = MAMLTrainConfig(task=task_config, model=MAMLConfig(**maml), num_updates=num_updates, seed=train_seed)
    device = resolve_device(device)
    run_dir = results_dir() / "runs" / run_name_for(name or default_run_name(MODEL_TYPE, task, num_actions, num_traj), train_seed)
    checkpoint_path = run_dir / CHECKPOINT_FILE
    done = checkpoint_path.exists() and load_checkpoint(checkpoint_path)["update"] >= num_updates
    if allow_training and not done:
        train_maml(config, run_dir, resume=True, device=device, progress=progress)
    if not checkpoint_path.exists():
        raise FileNotFoundError(
            f"no run at {run_dir} and allow_training=False: train it first "
            f"(python -m rl2lib.reproduce --profile paper --only <cell>)"
        )
    trained, evaluation = evaluate_run(run_dir, num_trials, seed, device, confirm)
    history = load_checkpoint(checkpoint_path)["metrics"]
    return CellResult(
        run_dir.name,
        run_dir,
        trained,
        history,
        evaluation,
        published_learner(MODEL_TYPE, task, num_actions, num_traj),
        {run_dir.name: history},
    )


def ceilings_markdown(num_tasks: int = 20_000, seed: int = 0) -> str:
    """What one adaptation of a memoryless agent can reach on each bandit cell of [2] Table 3
    (`rl2lib.maml.one_step_ceiling`, the best over a grid of adaptation pulls N and explored arms m),
    within the trial and after one unscored trial, beside the paper's MAML number."""
    lines = [
        "| n | k | paper (MAML) | adapting within the trial: ceiling (N, m) | after one unscored trial: ceiling (m) |",
        "|---|---|---|---|---|",
    ]
    for n, k in ((10, 5), (10, 10), (10, 50), (100, 5), (100, 10), (100, 50)):
        pulls = range(1, n) if n <= 10 else sorted({*range(2, 41, 3), 50, 70})
        arms = sorted({1, 2, 3, 5, 10, 20, k} & set(range(1, k + 1)))
        within = max((one_step_ceiling(k, n, N, m, True, num_tasks, seed), N, m) for N in pulls for m in arms)
        after = max((one_step_ceiling(k, n, n, m, False, num_tasks, seed), m) for m in arms)
        lines.append(
            f"| {n} | {k} | {published_learner(MODEL_TYPE, 'bandit', k, n):g} | {within[0]:.2f} ({within[1]}, "
            f"{within[2]}) | {after[0]:.2f} ({after[1]}) |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    defaults = MAMLConfig()
    parser = argparse.ArgumentParser(
        prog="rl2-maml",
        description="Train MAML (SNAIL Tables 3-4's third column) "
        "on the batched bandits or MDPs, with rl2-train's run folder and resume.",
    )
    add = parser.add_argument
    add("--task", default="bandit", help=f"{' or '.join(TASK_NAMES)} (default bandit)")
    add("--num_actions", type=int, default=5, help="k: arms of a bandit, actions of an MDP (default 5)")
    add("--num_traj", type=int, default=10, help="n: episodes per trial (default 10)")
    add("--metalearn_epochs", type=int, default=200, help="outer steps (default 200)")
    add("--seed", type=int, default=0, help="training seed (default 0)")
    add(
        "--hidden_sizes",
        type=int,
        nargs="*",
        default=list(defaults.hidden_sizes),
        help=f"ReLU hidden layers of the policy MLP (default {' '.join(map(str, defaults.hidden_sizes))})",
    )
    add(
        "--adapt_episodes",
        type=int,
        default=None,
        help="episodes of the scored trial played before the inner step (default n // 2)",
    )
    add(
        "--adapt_trials",
        type=int,
        default=0,
        help="unscored trials of the same task played before the inner "
        "step, then the whole scored trial adapted (MAML-RL's protocol); 0 (default): adapt within the trial",
    )
    add("--inner_lr", type=float, default=defaults.inner_lr, help=f"inner step size alpha (default {defaults.inner_lr})")
    add("--num_inner_steps", type=int, default=defaults.num_inner_steps, help="inner policy-gradient steps (default 1)")
    add("--first_order", action="store_true", help="first-order MAML (no second derivatives)")
    add(
        "--meta_batch_tasks",
        type=int,
        default=defaults.meta_batch_tasks,
        help=f"tasks per outer step (default {defaults.meta_batch_tasks})",
    )
    add("--minibatch_tasks", type=int, default=None, help="tasks per outer minibatch (default: the meta-batch)")
    add(
        "--learning_rate",
        type=float,
        default=defaults.learning_rate,
        help=f"Adam step size of the outer update (default {defaults.learning_rate})",
    )
    add("--validate_every", type=int, default=10, help="outer steps between validations; 0: never (default 10)")
    add("--checkpoint_every", type=int, default=10, help="outer steps between checkpoints (default 10)")
    add("--run_dir", default=None, help="run folder (default results/runs/maml_<task>_k<k>_n<n>)")
    add("--resume", action="store_true", help="continue the run in --run_dir from its checkpoint")
    add(
        "--num_trials",
        type=int,
        default=1000,
        help="then evaluate best.pt (else the last checkpoint) on this "
        "many fresh tasks into eval.json, as the tables do; 0: do not (default 1000)",
    )
    add("--eval_seed", type=int, default=0, help="seed of the evaluation tasks (default 0, the tables')")
    add("--no_confirm", action="store_true", help="skip the confirming evaluation (10,000 tasks of another seed, confirm.json)")
    add("--device", default="auto", help="cpu, cuda or auto (default)")
    add("--no_progress", action="store_true", help="no progress bar or lines")
    add(
        "--ceilings",
        action="store_true",
        help="print what one adaptation of a memoryless agent can reach on "
        "each bandit cell of SNAIL Table 3 (Monte Carlo on 20,000 tasks), and exit",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> MAMLTrainConfig:
    task = TaskConfig(task=args.task, num_actions=args.num_actions, num_traj=args.num_traj)
    model = MAMLConfig(
        hidden_sizes=tuple(args.hidden_sizes),
        adapt_episodes=args.adapt_episodes,
        adapt_trials=args.adapt_trials,
        num_inner_steps=args.num_inner_steps,
        inner_lr=args.inner_lr,
        first_order=args.first_order,
        meta_batch_tasks=args.meta_batch_tasks,
        minibatch_tasks=args.minibatch_tasks or args.meta_batch_tasks,
        learning_rate=args.learning_rate,
    )
    return MAMLTrainConfig(
        task=task,
        model=model,
        num_updates=args.metalearn_epochs,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        validate_every=args.validate_every,
    )


def config_flags(config: MAMLTrainConfig) -> dict:
    """The flags that rebuild `config` (`config_from_args`' inverse), by flag name, defaults left out."""
    args = vars(build_parser().parse_args([]))
    model, task = config.model, config.task
    wanted = {
        "task": task.task,
        "num_actions": task.num_actions,
        "num_traj": task.num_traj,
        "metalearn_epochs": config.num_updates,
        "seed": config.seed,
        "hidden_sizes": list(model.hidden_sizes),
        "adapt_episodes": model.adapt_episodes,
        "adapt_trials": model.adapt_trials,
        "inner_lr": model.inner_lr,
        "num_inner_steps": model.num_inner_steps,
        "first_order": model.first_order,
        "meta_batch_tasks": model.meta_batch_tasks,
        "minibatch_tasks": None if model.minibatch_tasks == model.meta_batch_tasks else model.minibatch_tasks,
        "learning_rate": model.learning_rate,
        "validate_every": config.validate_every,
        "checkpoint_every": config.checkpoint_every,
    }
    return {name: value for name, value in wanted.items() if args[name] != value}


def command_for(config: dict, run_name: str) -> str:
    """The `rl2-maml` command of a run's config.json, checked to rebuild it."""
    flags = config_flags(MAMLTrainConfig.from_dict(config))
    argv = flag_argv(flags)
    rebuilt = config_from_args(build_parser().parse_args(argv))
    if rebuilt.to_dict() != MAMLTrainConfig.from_dict(config).to_dict():
        return "(config not expressible by flags: see config.json)"
    return f"rl2-maml {' '.join(argv)} --run_dir results/runs/{run_name}"


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.ceilings:
        print(ceilings_markdown())
        return
    try:
        config = config_from_args(args)
        if args.num_trials < 0:
            raise ConfigError(f"--num_trials must be >= 0, got {args.num_trials}")
        run_dir = (
            Path(args.run_dir)
            if args.run_dir
            else results_dir()
            / "runs"
            / default_run_name(MODEL_TYPE, config.task.task, config.task.num_actions, config.task.num_traj)
        )
        check_run_dir(run_dir, args.resume)
        device = resolve_device(args.device)
        print(
            f"training maml on task {config.task.task} (k={config.task.num_actions}, n={config.task.num_traj}); "
            f"{config.model.meta_batch_tasks} trials = {config.steps_per_update} steps per update; device "
            f"{device.type}; run_dir {run_dir}",
            flush=True,
        )
        train_maml(config, run_dir, resume=args.resume, device=device, progress=not args.no_progress)
        if args.num_trials:
            _, evaluation = evaluate_run(run_dir, args.num_trials, args.eval_seed, device, confirm=not args.no_confirm)
            print(
                f"{run_dir.name}: {evaluation.mean:.3f} +- {evaluation.se:.3f} (SE) over {evaluation.num_trials} "
                f"fresh trials of seed {args.eval_seed} (eval.json)",
                flush=True,
            )
    except (ConfigError, TrainingError) as error:
        cli_error(str(error))


if __name__ == "__main__":
    sys.exit(main())
