"""Training: `train(config, run_dir) -> history`, the loop, and `rl2-train` around it (`main`).

One PPO update per "metalearn epoch": sample B whole trials of B fresh tasks (or of a fixed pool),
run the PPO epochs on them, log one metrics row, and checkpoint every few updates. All randomness
comes from named generators whose states go into the checkpoint, so a run cut off and resumed
gives the same numbers as one left alone (on CPU). The flags, recipes and their mapping onto a
`TrainConfig` live in `rl2lib.cli`; the run folder's files in `rl2lib.runs`.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL"; [4] Schulman et al. 2017, "PPO".
"""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import torch

from rl2lib.cli import build_parser, cli_error, config_from_args, phase2_command, recipe_phase2, resolve_device, resumed_config
from rl2lib.config import ConfigError, TrainConfig
from rl2lib.envs import sample_tasks
from rl2lib.evaluate import evaluate_policy
from rl2lib.loop import UpdateLog
from rl2lib.models import build_policy, set_temperature
from rl2lib.paths import default_run_name, results_dir, run_name_for
from rl2lib.ppo import NonFiniteLoss, ReturnNormalizer, native_bf16, ppo_update
from rl2lib.rollout import collect_trials
from rl2lib.runs import (
    CHECKPOINT_FILE,
    METRIC_FIELDS,
    METRICS_FILE,
    TrainingError,
    check_run_dir,
    load_checkpoint,
    load_parent,
    same_run,
    save_atomic,
    trainer_checkpoint,
    training_lock,
    write_config,
    write_metrics,
)

VALIDATION_SEED = 1_000_003
"""Seed of the held-out validation tasks (`--validate_every`): the tables evaluate on seed 0 and the
baselines tune on small seeds, so a policy chosen on these tasks is still scored on unseen ones."""


def build_config_policy(config: TrainConfig) -> torch.nn.Module:
    """The policy of `config`, initialised from `config.seed` (the global stream is seeded)."""
    torch.manual_seed(config.seed)
    return build_policy(config.task, config.model)


def training_generators(config: TrainConfig, device: torch.device) -> dict[str, torch.Generator]:
    """Named generators: tasks and minibatch order on the CPU, environment noise and actions on `device`."""
    seed = config.seed
    return {
        "tasks": torch.Generator().manual_seed(seed),
        "env": torch.Generator(device=device).manual_seed(seed + 1),
        "actions": torch.Generator(device=device).manual_seed(seed + 2),
        "minibatches": torch.Generator().manual_seed(seed + 3),
    }


def restore_generator(generator: torch.Generator, state: torch.Tensor, reseed: int) -> None:
    """Set `generator` to a checkpoint's `state`; a state of another device's generator (a run trained
    on CUDA, resumed on CPU, or the reverse: CUDA's Philox state has 16 bytes, the CPU's Mersenne
    twister 5056) cannot be set, so the generator is seeded with `reseed` instead, and the run goes on
    with other random numbers than it would have drawn on its first device."""
    if state.numel() == generator.get_state().numel():
        generator.set_state(state)
    else:
        generator.manual_seed(reseed)
        print(f"note: the checkpoint's generator was on another device; {generator.device} one seeded with {reseed}")


def task_pool(config: TrainConfig):
    """The fixed pool of `num_tasks` training tasks (the original project's meaning), or None."""
    if config.num_tasks == 0:
        return None
    return sample_tasks(config.task, config.num_tasks, torch.Generator().manual_seed(config.seed + 4), config.train_prior_b)


def draw_training_tasks(config: TrainConfig, pool, generator: torch.Generator, device: torch.device):
    """B tasks for one update: fresh ones ([1] Sec. 3), or drawn with replacement from the pool; bandit arms
    from `config.train_prior_b`'s prior."""
    B = config.ppo.num_trials
    if pool is None:
        return sample_tasks(config.task, B, generator, config.train_prior_b).to(device)
    index = torch.randint(pool.num_tasks, (B,), generator=generator)
    return pool.select(index).to(device)


def schedule(config: TrainConfig, update: int) -> tuple[float, float]:
    """(learning rate, entropy coefficient) at update `update` (0-based): linear schedules."""
    ppo, fraction = config.ppo, update / max(config.num_updates - 1, 1)
    learning_rate = ppo.learning_rate * (1 - update / config.num_updates) if ppo.anneal_lr else ppo.learning_rate
    final = ppo.ent_coef if ppo.ent_coef_final is None else ppo.ent_coef_final
    return learning_rate, ppo.ent_coef + (final - ppo.ent_coef) * fraction


def validate(policy: torch.nn.Module, config: TrainConfig, device: torch.device) -> tuple[float, float]:
    """(mean, SE) of the trial return on `config.validate_trials` held-out tasks (sampled actions, as
    the tables use), leaving the policy in training mode."""
    result = evaluate_policy(policy, config.task, config.validate_trials, VALIDATION_SEED, device=device)
    policy.train()
    return result.mean, result.se


def warm_start_normalizer(state: dict, parent: TrainConfig, config: TrainConfig) -> dict:
    """The return normaliser a run starts with from its parent's `state`: the parent's own when the
    trial lengths and the value head's units match (a later phase), else a fresh one, so that the
    child's first batch of targets sets it (returns-to-go grow with the trial, by a factor that depends
    on gamma; `PPOConfig.value_per_step` divides them by the steps left)."""
    same_units = parent.ppo.value_per_step == config.ppo.value_per_step
    return state if parent.task.trial_len == config.task.trial_len and same_units else ReturnNormalizer().state_dict()


def train(
    config: TrainConfig,
    run_dir: Path,
    resume: bool = False,
    device: torch.device | str = "cpu",
    progress: bool = True,
    stop_after: int | None = None,
) -> list[dict]:
    """Train `config` and write `run_dir`/{config.json, metrics.csv, checkpoint.pt}, and best.pt
    (the policy with the best validation return) when `config.validate_every` > 0.

    Args:
        resume: continue from `run_dir`/checkpoint.pt (its config must equal `config` but for
            num_updates, checkpoint_every and the validation settings: a finished run can be extended).
        stop_after: stop (with a checkpoint) after this many updates in total; used to test resuming.

    Returns:
        history: one dict per update (the rows of metrics.csv).
    """
    run_dir = Path(run_dir)
    with training_lock(run_dir):  # one process per run folder
        return train_locked(config, run_dir, resume, torch.device(device), progress, stop_after)


def train_locked(
    config: TrainConfig, run_dir: Path, resume: bool, device: torch.device, progress: bool, stop_after: int | None
) -> list[dict]:
    """`train`, once it holds the run folder's lock."""
    checkpoint_path, metrics_path = run_dir / CHECKPOINT_FILE, run_dir / METRICS_FILE
    policy = build_config_policy(config).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.ppo.learning_rate, eps=config.ppo.adam_eps)
    normalizer = ReturnNormalizer(config.ppo.norm_returns)
    generators = training_generators(config, device)
    history, start, best_validation = [], 0, -math.inf
    offsets = {"env_steps": 0, "wall_seconds": 0.0}  # where the counts start: the --init_from parent's
    resuming = resume and checkpoint_path.exists()
    if config.init_from is not None and not resuming:
        parent = load_parent(config)
        policy.load_state_dict(parent["model"])
        set_temperature(policy, config.init_temperature)
        optimizer.load_state_dict(parent["optimizer"])
        normalizer.load_state_dict(warm_start_normalizer(parent["normalizer"], TrainConfig.from_dict(parent["config"]), config))
        if parent["metrics"]:
            offsets = {name: parent["metrics"][-1][name] for name in offsets}
    if resuming:
        checkpoint = load_checkpoint(checkpoint_path)
        if not same_run(checkpoint["config"], config.to_dict()):
            raise TrainingError(f"{checkpoint_path} was written with another config; use a new --run_dir")
        policy.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        normalizer.load_state_dict(checkpoint["normalizer"])
        history, start = checkpoint["metrics"], checkpoint["update"]
        saved_precision = TrainConfig.from_dict(checkpoint["config"]).precision
        if saved_precision != config.precision:
            print(f"updates 1-{start} ran in {saved_precision}; the rest run in {config.precision}")
        for index, (name, state) in enumerate(checkpoint["generators"].items()):
            restore_generator(generators[name], state, reseed=config.seed + 1000 * start + index)
        best_validation = checkpoint.get("best_validation", -math.inf)
        offsets = checkpoint.get("offsets") or {  # checkpoints written before offsets were saved
            "env_steps": history[-1]["env_steps"] - start * config.steps_per_update if history else 0,
            "wall_seconds": 0.0,
        }
    wall_offset = history[-1]["wall_seconds"] if history else offsets["wall_seconds"]
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, config.to_dict())
    write_metrics(metrics_path, history)
    pool = task_pool(config)

    def save_checkpoint(update: int, path: Path = checkpoint_path) -> None:
        state = trainer_checkpoint(
            config, update, policy, optimizer, normalizer, generators, history, log.best_validation, offsets
        )
        save_atomic(state, path)

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
        wall_offset=wall_offset,
        fields=METRIC_FIELDS,
        save=save_checkpoint,
        progress=progress,
        desc=f"{config.model.model_type} on {t.task} k={t.num_actions} n={t.num_traj}",
    )
    for update in log:
        learning_rate, ent_coef = schedule(config, update)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        tasks = draw_training_tasks(config, pool, generators["tasks"], device)
        batch = collect_trials(policy, tasks, config.task, generators["env"], generators["actions"])
        try:
            stats = ppo_update(
                policy, optimizer, batch, normalizer, config.ppo, ent_coef, generators["minibatches"], config.precision
            )
        except NonFiniteLoss:
            raise TrainingError(
                f"loss became NaN or infinite at metalearn epoch {update + 1}; "
                f"the last good checkpoint {checkpoint_path} is left intact"
            ) from None
        row = {
            "update": update + 1,
            "env_steps": offsets["env_steps"] + (update + 1) * config.steps_per_update,
            "wall_seconds": round(log.wall(), 3),
            "mean_trial_return": batch.totals.mean().item(),
            **stats,
            "learning_rate": learning_rate,
            "ent_coef": ent_coef,
        }
        if config.validate_every and (update + 1) % config.validate_every == 0:
            row["validation_return"], row["validation_se"] = validate(policy, config, device)
        log.record(row)
    log.close()
    return history


# ----------------------------------------------------------------------------- rl2-train


def main(argv: list[str] | None = None) -> None:
    """The `rl2-train` entry point (the console script exits with what this returns: None = 0)."""
    run_cli(argv)


def run_cli(argv: list[str] | None = None) -> list[dict]:
    """Parse the flags, train, copy the checkpoint to --out_file; returns the metrics history."""

    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        if args.resume:
            if args.run_dir is None:
                raise ConfigError("--resume needs --run_dir: the folder of the run to continue")
            config = resumed_config(args, argv, args.run_dir)
        device = resolve_device(args.device)
        if config.precision == "bf16" and not native_bf16(device):
            print(
                f"note: {device} has no native bfloat16 (AVX512-BF16, AMX or a bf16 GPU): "
                "bf16 autocast is emulated here, several times slower than fp32",
                file=sys.stderr,
            )
        if args.num_workers is not None:
            if args.num_workers < 1:
                raise ConfigError(f"num_workers must be >= 1, got {args.num_workers}")
            torch.set_num_threads(args.num_workers)
        if args.out_file is not None and not args.out_file.endswith(".pt"):
            raise ConfigError(f"out_file must end in .pt, got {args.out_file!r}")
        t = config.task
        cell_dir = (
            results_dir()
            / "runs"
            / run_name_for(default_run_name(config.model.model_type, t.task, t.num_actions, t.num_traj), config.seed)
        )
        run_dir = args.run_dir or (Path("runs") / Path(args.out_file).stem if args.out_file else cell_dir)
        check_run_dir(run_dir, args.resume)
        print(
            f"training {config.model.model_type} on task {t.task} (k={t.num_actions}, n={t.num_traj}, "
            f"episode length {t.traj_len}); {config.ppo.num_trials} trials = {config.steps_per_update} steps "
            f"per update, minibatches of {config.ppo.minibatch_trials} trials; device {device}; run_dir {run_dir}"
        )
        history = train(config, run_dir, resume=args.resume, device=device, progress=not args.no_progress)
    except (ConfigError, TrainingError) as error:
        cli_error(str(error))
    if args.out_file is not None:
        shutil.copyfile(run_dir / CHECKPOINT_FILE, args.out_file)
    print(
        f"done: {len(history)} updates, last mean trial return {history[-1]['mean_trial_return']:.3f}; "
        f"checkpoint {run_dir / CHECKPOINT_FILE}"
    )
    phase2 = recipe_phase2(config.task, config.model.model_type)
    if phase2 is not None and args.recipe == "rl2lib" and config.init_from is None:
        print(f"the MDP recipe's second phase: {phase2_command(config, phase2, run_dir)}")
    return history


if __name__ == "__main__":
    main()
