"""Training: `train(config, run_dir) -> history`, and the command line `rl2-train`.

One PPO update per "metalearn epoch": sample B whole trials of B fresh tasks (or of a fixed pool),
run the PPO epochs on them, log one metrics row, and checkpoint every few updates. All randomness
comes from named generators whose states go into the checkpoint, so a run cut off and resumed
gives the same numbers as one left alone (on CPU).
The command line keeps the flags of the original PyTorch project (`rl2_train.py`) with their
meanings; flags left out take this workbook's recipe for the task (`recipe`), or the original
project's defaults with `--recipe original`.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL"; [4] Schulman et al. 2017, "PPO".
"""
from __future__ import annotations

import argparse
import math
import shlex
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from tqdm.auto import tqdm

from rl2lib.config import ConfigError, ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.envs import sample_tasks
from rl2lib.evaluate import cli_error, evaluate_policy, resolve_device
from rl2lib.models import build_policy
from rl2lib.models.snail import num_dense_blocks
from rl2lib.paths import default_run_name, phase2_run_name, portable_path, repo_path, results_dir, run_name_for
from rl2lib.ppo import NonFiniteLoss, ReturnNormalizer, ppo_update
from rl2lib.rollout import collect_trials
from rl2lib.runs import (
    CHECKPOINT_FORMAT,
    TrainingError,
    agent_path,
    append_metrics,
    load_checkpoint,
    save_atomic,
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


def tc_depth(config: TrainConfig) -> int:
    """SNAIL's DenseBlocks per TCBlock: ceil(log2) of `model.depth_len`, or of the trial length."""
    return num_dense_blocks(config.model.depth_len or config.task.trial_len)


def make_generators(config: TrainConfig, device: torch.device) -> dict[str, torch.Generator]:
    """Named generators: tasks and minibatch order on the CPU, environment noise and actions on `device`."""
    seed = config.seed
    return {
        "tasks": torch.Generator().manual_seed(seed),
        "env": torch.Generator(device=device).manual_seed(seed + 1),
        "actions": torch.Generator(device=device).manual_seed(seed + 2),
        "minibatches": torch.Generator().manual_seed(seed + 3),
    }


def task_pool(config: TrainConfig):
    """The fixed pool of `num_tasks` training tasks (the original project's meaning), or None."""
    if config.num_tasks == 0:
        return None
    return sample_tasks(config.task, config.num_tasks, torch.Generator().manual_seed(config.seed + 4))


def draw_training_tasks(config: TrainConfig, pool, generator: torch.Generator, device: torch.device):
    """B tasks for one update: fresh ones ([1] Sec. 3), or drawn with replacement from the pool."""
    B = config.ppo.num_trials
    if pool is None:
        return sample_tasks(config.task, B, generator).to(device)
    index = torch.randint(pool.num_tasks, (B,), generator=generator)
    return pool.select(index).to(device)


def schedule(config: TrainConfig, update: int) -> tuple[float, float]:
    """(learning rate, entropy coefficient) at update `update` (0-based): linear schedules."""
    ppo, fraction = config.ppo, update / max(config.num_updates - 1, 1)
    learning_rate = ppo.learning_rate * (1 - update / config.num_updates) if ppo.anneal_lr else ppo.learning_rate
    final = ppo.ent_coef if ppo.ent_coef_final is None else ppo.ent_coef_final
    return learning_rate, ppo.ent_coef + (final - ppo.ent_coef) * fraction


EXTENDABLE_FIELDS = ("num_updates", "checkpoint_every", "validate_every", "validate_trials")


def same_run(saved: dict, new: dict) -> bool:
    """A resumed run may only change how long it runs, how often it checkpoints and how it validates.
    The saved config goes through TrainConfig first, so fields added since it was written take their defaults."""
    saved = TrainConfig.from_dict(saved).to_dict()
    return all(saved.get(key) == new.get(key) for key in set(saved) | set(new) if key not in EXTENDABLE_FIELDS)


def validate(policy: torch.nn.Module, config: TrainConfig, device: torch.device) -> tuple[float, float]:
    """(mean, SE) of the trial return on `config.validate_trials` held-out tasks (sampled actions, as
    the tables use), leaving the policy in training mode."""
    result = evaluate_policy(policy, config.task, config.validate_trials, VALIDATION_SEED, device=device)
    policy.train()
    return result.mean, result.se


PROGRESS_EVERY = 10
"""Off a terminal, the trainer prints a plain line every this many updates, and at each validation."""


def interactive() -> bool:
    """Whether progress can be a live bar: a terminal, or a notebook kernel (tqdm's widget)."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def progress_line(row: dict, num_updates: int, steps_per_second: float) -> str:
    """One log line of an update: 'update 20/300  30,500,000 steps  return 401.09  validation 402.89 +- 2.71  21,034 steps/s'."""
    validation = (f"  validation {row['validation_return']:.2f} +- {row['validation_se']:.2f}"
                  if "validation_return" in row else "")
    return (f"update {row['update']}/{num_updates}  {row['env_steps']:,} steps  return {row['mean_trial_return']:.2f}"
            f"{validation}  {steps_per_second:,.0f} steps/s")


def load_parent(config: TrainConfig) -> dict:
    """The `--init_from` checkpoint of `config`: the same model on the same task family, k and episode
    length, with the same or fewer episodes per trial (a horizon warm start, e.g. bandit n = 100 -> 500).
    A GRU's weights do not depend on the trial length; SNAIL's TCBlock depth, ceil(log2 T), does, so a
    SNAIL parent must have the same depth."""
    parent = load_checkpoint(repo_path(config.init_from))
    parent_config = TrainConfig.from_dict(parent["config"])
    same_family = replace(parent_config.task, num_traj=config.task.num_traj) == config.task
    same_model = replace(parent_config.model, depth_len=None) == replace(config.model, depth_len=None)
    if not same_family or not same_model or parent_config.task.num_traj > config.task.num_traj:
        raise TrainingError(f"--init_from {config.init_from} holds another task or model "
                            f"({parent_config.model.model_type} on {parent_config.task}); it must hold this run's "
                            f"model on the same task with at most n={config.task.num_traj} episodes per trial")
    if config.model.model_type == "snail" and tc_depth(parent_config) != tc_depth(config):
        raise TrainingError(f"--init_from {config.init_from}: SNAIL's TCBlocks have ceil(log2 T) layers, "
                            f"{tc_depth(parent_config)} at T={parent_config.task.trial_len} but {tc_depth(config)} "
                            f"at T={config.task.trial_len}; build both at one depth (--depth_len)")
    return parent


def warm_start_normalizer(state: dict, parent_len: int, trial_len: int) -> dict:
    """The return normaliser a run starts with from its parent's `state`: the parent's own when the
    trial lengths match (a later phase), else a fresh one, so that the child's first batch of returns
    sets it (returns-to-go grow with the trial, by a factor that depends on gamma)."""
    return state if parent_len == trial_len else ReturnNormalizer().state_dict()


def train(config: TrainConfig, run_dir: Path, resume: bool = False, device: torch.device | str = "cpu",
          progress: bool = True, stop_after: int | None = None) -> list[dict]:
    """Train `config` and write `run_dir`/{config.json, metrics.csv, checkpoint.pt}, and best.pt
    (the policy with the best validation return) when `config.validate_every` > 0.

    Args:
        resume: continue from `run_dir`/checkpoint.pt (its config must equal `config` but for
            num_updates, checkpoint_every and the validation settings: a finished run can be extended).
        stop_after: stop (with a checkpoint) after this many updates in total; used to test resuming.

    Returns:
        history: one dict per update (the rows of metrics.csv).
    """
    device = torch.device(device)
    run_dir = Path(run_dir)
    checkpoint_path, metrics_path = run_dir / "checkpoint.pt", run_dir / "metrics.csv"
    policy = build_config_policy(config).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.ppo.learning_rate, eps=1e-5)
    normalizer = ReturnNormalizer(config.ppo.norm_returns)
    generators = make_generators(config, device)
    history, start, best_validation = [], 0, -math.inf
    offsets = {"env_steps": 0, "wall_seconds": 0.0}  # where the counts start: the --init_from parent's
    resuming = resume and checkpoint_path.exists()
    if config.init_from is not None and not resuming:
        parent = load_parent(config)
        policy.load_state_dict(parent["model"])
        optimizer.load_state_dict(parent["optimizer"])
        parent_len = TrainConfig.from_dict(parent["config"]).task.trial_len
        normalizer.load_state_dict(warm_start_normalizer(parent["normalizer"], parent_len, config.task.trial_len))
        if parent["metrics"]:
            offsets = {name: parent["metrics"][-1][name] for name in offsets}
    if resuming:
        checkpoint = load_checkpoint(checkpoint_path)
        if not same_run(checkpoint["config"], config.to_dict()):
            raise TrainingError(f"{checkpoint_path} was written with another config; use a new --run_dir")
        policy.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        normalizer.load_state_dict(checkpoint["normalizer"])
        for name, state in checkpoint["generators"].items():
            generators[name].set_state(state)
        history, start = checkpoint["metrics"], checkpoint["update"]
        best_validation = checkpoint.get("best_validation", -math.inf)
        offsets = checkpoint.get("offsets") or {  # checkpoints written before offsets were saved
            "env_steps": history[-1]["env_steps"] - start * config.steps_per_update if history else 0,
            "wall_seconds": 0.0}
    wall_offset = history[-1]["wall_seconds"] if history else offsets["wall_seconds"]
    run_dir.mkdir(parents=True, exist_ok=True)
    write_config(run_dir, config.to_dict())
    write_metrics(metrics_path, history)
    pool = task_pool(config)

    def save_checkpoint(update: int, path: Path = checkpoint_path) -> None:
        save_atomic({"format": CHECKPOINT_FORMAT, "config": config.to_dict(), "update": update,
                     "model": policy.state_dict(), "optimizer": optimizer.state_dict(),
                     "normalizer": normalizer.state_dict(),
                     "generators": {name: g.get_state() for name, g in generators.items()},
                     "metrics": history, "best_validation": best_validation, "offsets": offsets}, path)

    end = config.num_updates if stop_after is None else min(stop_after, config.num_updates)
    started = time.perf_counter()
    lines = progress and not interactive()
    bar = tqdm(range(start, end), initial=start, total=config.num_updates, disable=not progress or lines,
               desc=f"{config.model.model_type} on {config.task.task} k={config.task.num_actions} n={config.task.num_traj}")
    for update in bar:
        learning_rate, ent_coef = schedule(config, update)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        tasks = draw_training_tasks(config, pool, generators["tasks"], device)
        batch = collect_trials(policy, tasks, config.task, generators["env"], generators["actions"])
        try:
            stats = ppo_update(policy, optimizer, batch, normalizer, config.ppo, ent_coef, generators["minibatches"],
                               config.precision)
        except NonFiniteLoss:
            raise TrainingError(f"loss became NaN or infinite at metalearn epoch {update + 1}; "
                                f"the last good checkpoint {checkpoint_path} is left intact") from None
        wall = wall_offset + time.perf_counter() - started
        row = {"update": update + 1, "env_steps": offsets["env_steps"] + (update + 1) * config.steps_per_update,
               "wall_seconds": round(wall, 3), "mean_trial_return": batch.totals.mean().item(),
               **stats, "learning_rate": learning_rate, "ent_coef": ent_coef}
        validated = config.validate_every and (update + 1) % config.validate_every == 0
        if validated:
            row["validation_return"], row["validation_se"] = validate(policy, config, device)
        history.append(row)
        append_metrics(metrics_path, row)
        if validated and row["validation_return"] > best_validation:
            best_validation = row["validation_return"]
            save_checkpoint(update + 1, run_dir / "best.pt")
        steps_per_second = config.steps_per_update * (update + 1 - start) / max(wall - wall_offset, 1e-9)
        bar.set_postfix(ret=f"{row['mean_trial_return']:.2f}", sps=f"{steps_per_second:,.0f}")
        if lines and (validated or (update + 1) % PROGRESS_EVERY == 0 or update + 1 == end):
            print(progress_line(row, config.num_updates, steps_per_second), flush=True)
        if (update + 1) % config.checkpoint_every == 0 or update + 1 == end:
            save_checkpoint(update + 1)
    bar.close()
    if start >= end:  # nothing left to do: make sure the files exist
        save_checkpoint(start)
    return history


# ----------------------------------------------------------------------------- command line

ORIGINAL_DEFAULTS = {  # rl2_train.py of the original project
    "metalearn_epochs": 300, "learning_rate": 3e-4, "gamma": 0.99, "num_tasks": 1000, "tau": 0.95,
    "mini_batch_size": 256, "batch_size": 10000, "ppo_epochs": 5, "clip_param": 0.1, "vf_coef": 0.5,
    "ent_coef": 0.01, "max_grad_norm": 0.9, "target_kl": 0.01, "hidden_size": 256, "validate_every": 0,
    "first_dilation": 2,
}


def recipe(task: TaskConfig, model_type: str) -> dict:
    """This workbook's defaults per task, in the CLI's units (steps). See README "Defaults that learn".

    Why: a fresh task per trial ([1] Sec. 3); large batches of whole trials (25k steps on bandit
    trials of at most 50 steps, 100k on longer ones, 40k on MDPs) with 4 minibatches and 4 epochs,
    since sampling is cheap when batched (on bandit n = 100, 25k steps per update plateaued at a
    validation return of 77.4-77.5 from update 300 to 1000, 100k reached 77.9 by update 300); gamma 1 when a trial is long
    (n = 100 pulls: a discount of 0.99 would hide the late rewards that pay for exploring); GAE lambda
    0.3 (the RL^2 authors') on MDPs and short bandit trials, 0.9 on long bandit trials: with 0.3 the
    credit for an exploratory pull decays within a few steps, and bandit n = 100 stalled at 75 where
    0.9 passed 77 within 6M steps (on MDP n = 10 the two tracked each other over the first 20M
    steps; the 0.3 run was carried on, README, learning runs); 4000 updates (160M steps) on MDPs, then a
    second phase (`recipe_phase2`); a validation on 1000 held-out tasks every
    10 updates, whose best policy (best.pt) is what the tables evaluate: on bandit n = 100 the
    returns oscillate by about 1 between updates late in training. SNAIL's TCBlocks start at dilation 1
    (`--first_dilation`): with [2]'s dilations 2, 4, ... the convolutions never see step t - 1, and on
    bandit n = 10 it learned far more slowly (README, learning runs).
    """
    bandit = task.task == "bandit"
    long_bandit = bandit and task.trial_len > 50
    steps = 100_000 if long_bandit else 25_000 if bandit else 40_000
    num_updates = 300 if long_bandit else 600 if bandit else 4000
    return {
        "metalearn_epochs": num_updates, "learning_rate": 3e-3 if model_type == "gru" else 1e-3,
        "gamma": 0.99 if task.trial_len <= 50 else 1.0, "num_tasks": 0,
        "tau": 0.9 if bandit and task.trial_len > 50 else 0.3,
        "batch_size": steps, "mini_batch_size": steps // 4, "ppo_epochs": 4, "clip_param": 0.2, "vf_coef": 0.5,
        "ent_coef": 0.01, "max_grad_norm": 1.0, "target_kl": None, "hidden_size": 128, "validate_every": 10,
        "first_dilation": 1 if model_type == "snail" else 2,
    }


def recipe_phase2(task: TaskConfig, model_type: str) -> dict | None:
    """The second training phase of this workbook's MDP recipe (flags, as for `recipe`); None for bandits.

    It starts from the first phase's best.pt (`--init_from`) and trains 600 more updates with GAE
    lambda 0.9, a third of the recipe's learning rate, 100k steps per update and an entropy
    bonus of 0.001 (decaying to 0.0001). Why: with lambda 0.3 the GRU on MDP n = 10 climbed fastest
    but its validation return stalled at 147-149 over its last 1000 updates (40M steps); a second
    phase with lambda 0.3 and these other settings stayed at 148.4-149.1 for 90 updates, the same
    with lambda 0.9 rose to about 150.5 within 300 (README, learning runs): lambda 0.3 leans on the
    value function, whose bias then limits the policy. Tried on the GRU only.
    """
    if task.task != "mdp":
        return None
    return {"metalearn_epochs": 600, "tau": 0.9, "learning_rate": recipe(task, model_type)["learning_rate"] / 3,
            "batch_size": 100_000, "mini_batch_size": 25_000, "ent_coef": 0.001, "validate_trials": 2000}


def build_parser() -> argparse.ArgumentParser:
    o = ORIGINAL_DEFAULTS
    p = argparse.ArgumentParser(
        prog="rl2-train",
        description="Train an RL^2 (GRU) or SNAIL policy with PPO + GAE over whole trials. Flags keep the "
                    "original project's names and meanings; a flag left out takes this workbook's recipe for "
                    "the task (see README), or the original default with --recipe original.")
    add = p.add_argument
    add("--num_workers", type=int, default=None, help="CPU threads for torch (original: worker processes; default: all cores)")
    add("--model_type", default="gru", help="gru (RL^2) or snail (default gru)")
    add("--metalearn_epochs", type=int, help=f"PPO updates (original default {o['metalearn_epochs']})")
    add("--task", default="bandit",
        help="bandit or mdp (default bandit: the original code's default, and what the first two sample "
             "commands' output names assume; its README said mdp). The trainer prints the task it trains on.")
    add("--learning_rate", type=float, help=f"Adam step size (original {o['learning_rate']})")
    add("--gamma", type=float, help=f"discount over the whole trial (original {o['gamma']})")
    add("--num_actions", type=int, default=5, help="k arms (bandit) or actions (mdp); default 5")
    add("--num_tasks", type=int, help="0: a fresh task for every trial (the papers' setting, our default, since a "
        f"fixed pool overfits); N > 0: a fixed pool of N training tasks (original default {o['num_tasks']})")
    add("--num_traj", type=int, default=10, help="n, episodes per trial (default 10)")
    add("--traj_len", type=int, default=None, help="episode length (default 1 for bandits, 10 for mdp)")
    add("--tau", type=float, help=f"GAE lambda (original {o['tau']})")
    add("--mini_batch_size", type=int, help="PPO minibatch in environment steps, rounded up to whole trials "
        f"(original {o['mini_batch_size']})")
    add("--batch_size", type=int, help=f"environment steps per update, rounded to whole trials (original {o['batch_size']})")
    add("--ppo_epochs", type=int, help=f"passes over each batch (original {o['ppo_epochs']})")
    add("--clip_param", type=float, help=f"PPO clip epsilon (original {o['clip_param']})")
    add("--vf_coef", type=float, help=f"value loss weight (original {o['vf_coef']})")
    add("--ent_coef", type=float, help=f"entropy bonus (original {o['ent_coef']}); ours decays to a tenth")
    add("--max_grad_norm", type=float, help=f"gradient norm clip (original {o['max_grad_norm']})")
    add("--target_kl", type=float, help=f"early-stop KL of an update (original {o['target_kl']}; ours: none)")
    add("--anneal_lr", action="store_true", help="decay the learning rate linearly to 0 over the run "
        "(always on with --recipe original, as the original project did)")
    add("--out_file", default=None, help="also write the final checkpoint here (a .pt file)")
    add("--recipe", default="rl2lib", help="defaults for flags left out: rl2lib (learns; default) or original")
    add("--hidden_size", type=int, help="GRU units (ours 128: 2.5x faster than the RL^2 authors' 256, "
        "and enough for these tasks; original 256)")
    add("--separate_value", action="store_true", help="GRU: a separate value GRU, as the RL^2 authors did")
    add("--layer_norm", action="store_true", help="GRU: LayerNorm on the GRU outputs before the heads (as the best "
        "public PyTorch reproduction did)")
    add("--first_dilation", type=int, help="SNAIL: dilation of each TCBlock's first DenseBlock (2: the paper's "
        "TCBlock; 1: start at 1 so that the convolutions see step t-1; ours 1, original 2)")
    add("--depth_len", type=int, default=None, help="SNAIL: size each TCBlock for trials of this many steps "
        "(ceil(log2) DenseBlocks) instead of this task's: a short-trial network at a long-trial depth, to warm-start "
        "longer trials from it (default: the task's trial length)")
    add("--init_from", default=None, help="start from this checkpoint's policy, Adam state and return "
        "normaliser instead of a fresh network: a second training phase with other settings, or a horizon "
        "warm start from a run of the same model and task with fewer episodes per trial (SNAIL: the same "
        "ceil(log2 T)); steps and wall seconds count on from it")
    add("--seed", type=int, default=0, help="random seed (default 0)")
    add("--device", default="auto", help="cpu, cuda or auto (default auto: cuda when present)")
    add("--precision", default="fp32", help="fp32 (default) or bf16: the PPO update's forward and backward under "
        "bfloat16 autocast (CPU or CUDA); sampling, the loss, GAE, Adam and checkpoints stay fp32")
    add("--run_dir", type=Path, default=None, help="where config.json, metrics.csv and checkpoint.pt go "
        "(default: the table cell's run, results/runs/<model>_<task>_k<k>_n<n> (MDPs <model>_mdp_n<n>, seed s > 0 "
        "_seed<s>), which the tables and the explorer read; with --out_file, runs/<its stem>)")
    add("--resume", action="store_true", help="continue the run in --run_dir from its checkpoint, with its own "
        "settings (flags left out keep them; --metalearn_epochs, --checkpoint_every and the validation flags may change)")
    add("--checkpoint_every", type=int, default=10, help="updates between checkpoints (default 10)")
    add("--validate_every", type=int, help="every N updates, evaluate on held-out validation tasks (never the "
        "evaluation seed) and keep the best policy as best.pt; 0: never (ours 10, original 0)")
    add("--validate_trials", type=int, default=1000, help="trials per validation (default 1000)")
    add("--no_progress", action="store_true", help="no progress output (default: a bar on a terminal, "
        f"else a plain line every {PROGRESS_EVERY} updates and at each validation)")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Map the original flags onto TrainConfig, rounding step counts to whole trials."""
    task = TaskConfig(task=args.task, num_actions=args.num_actions, num_traj=args.num_traj, traj_len=args.traj_len)
    if args.recipe not in ("rl2lib", "original"):
        raise ConfigError(f"unknown recipe {args.recipe!r}; allowed: rl2lib, original")
    defaults = recipe(task, args.model_type) if args.recipe == "rl2lib" else ORIGINAL_DEFAULTS
    value = {name: getattr(args, name) if getattr(args, name) is not None else default
             for name, default in defaults.items()}
    model = ModelConfig(model_type=args.model_type, hidden_size=value["hidden_size"],
                        separate_value=args.separate_value, layer_norm=args.layer_norm,
                        first_dilation=value["first_dilation"], depth_len=args.depth_len)
    for name in ("batch_size", "mini_batch_size"):
        if value[name] < 1:
            raise ConfigError(f"{name} must be >= 1 environment steps, got {value[name]}")
    if value["mini_batch_size"] > value["batch_size"]:
        raise ConfigError(f"mini_batch_size ({value['mini_batch_size']}) must be <= batch_size ({value['batch_size']})")
    T = task.trial_len
    num_trials = max(1, round(value["batch_size"] / T))
    minibatch_trials = min(num_trials, max(1, math.ceil(value["mini_batch_size"] / T)))
    is_recipe = args.recipe == "rl2lib"
    ppo = PPOConfig(num_trials=num_trials, minibatch_trials=minibatch_trials, update_epochs=value["ppo_epochs"],
                    clip_coef=value["clip_param"], gamma=value["gamma"], gae_lambda=value["tau"],
                    learning_rate=value["learning_rate"], anneal_lr=args.anneal_lr or not is_recipe, vf_coef=value["vf_coef"],
                    ent_coef=value["ent_coef"], ent_coef_final=value["ent_coef"] / 10 if is_recipe else None,
                    max_grad_norm=value["max_grad_norm"], target_kl=value["target_kl"],
                    norm_returns=is_recipe)
    return TrainConfig(task=task, model=model, ppo=ppo, num_updates=value["metalearn_epochs"],
                       num_tasks=value["num_tasks"], seed=args.seed, checkpoint_every=args.checkpoint_every,
                       validate_every=value["validate_every"], validate_trials=args.validate_trials,
                       init_from=None if args.init_from is None else portable_path(args.init_from),
                       precision=args.precision)


RUN_FLAGS = ("run_dir", "resume", "num_workers", "device", "no_progress", "out_file")
"""Flags that say where and how a run goes, not what it trains: a resumed run may take any."""
EXTENDABLE_FLAGS = {"metalearn_epochs": "num_updates", "checkpoint_every": "checkpoint_every",
                    "validate_every": "validate_every", "validate_trials": "validate_trials"}
"""Flags a resumed run may change (`EXTENDABLE_FIELDS`), with the field each sets."""


def given_flags(argv: list[str] | None) -> dict:
    """The flags typed on the command line `argv` (not those left to their defaults), by name."""
    parser = build_parser()
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def flat(config: TrainConfig) -> dict:
    """`config` as {'ppo.gae_lambda': 0.9, ...}: one entry per field."""
    return {f"{group}.{name}" if isinstance(values, dict) else group: value
            for group, values in config.to_dict().items()
            for name, value in (values.items() if isinstance(values, dict) else [(None, values)])}


def resumed_config(args: argparse.Namespace, argv: list[str] | None, run_dir: Path) -> TrainConfig:
    """The config of the run in `run_dir`, resumed from its checkpoint with the flags of `argv`: flags
    left out keep the run's own settings; a flag given must agree with them, unless it may change."""
    checkpoint_path = run_dir / "checkpoint.pt"
    if not checkpoint_path.exists():
        raise ConfigError(f"--resume: {run_dir} holds no checkpoint.pt to continue; drop --resume to start a run there")
    saved = TrainConfig.from_dict(load_checkpoint(checkpoint_path)["config"])
    given = {name: value for name, value in given_flags(argv).items() if name not in RUN_FLAGS}
    asked_config, defaults = config_from_args(args), build_parser()
    asked, kept = flat(asked_config), flat(saved)
    for name, value in given.items():
        if name in EXTENDABLE_FLAGS:
            continue
        try:
            without = flat(config_from_args(argparse.Namespace(**{**vars(args), name: defaults.get_default(name)})))
            fields = [field for field in asked if asked[field] != without[field]]
        except ConfigError:
            fields = list(asked)
        for field in fields:
            if field not in EXTENDABLE_FIELDS and asked[field] != kept[field]:
                raise ConfigError(f"--{name} {value} disagrees with the run in {run_dir} ({field} = "
                                  f"{kept[field]!r}); a resumed run keeps its config.json, and may only "
                                  f"change {', '.join('--' + f for f in EXTENDABLE_FLAGS)}")
    return replace(saved, **{EXTENDABLE_FLAGS[name]: getattr(asked_config, EXTENDABLE_FLAGS[name])
                             for name in given if name in EXTENDABLE_FLAGS})


def flag_argv(flags: dict) -> list[str]:
    """Command-line words for trainer flags given as a dict: True is a bare switch, None and False
    are left out (one rendering for `config_from_flags` and every printed command)."""
    argv = []
    for name, value in flags.items():
        if value is None or value is False:
            continue
        argv += [f"--{name}"] if value is True else [f"--{name}", str(value)]
    return argv


def phase2_command(config: TrainConfig, phase2: dict, run_dir: Path) -> str:
    """The `rl2-train` command of the recipe's second phase after the run `config` in `run_dir`:
    the same task, model and seed, from its best policy, into `<run>_phase2[_seed<s>]`."""
    task, model = config.task, config.model
    flags = {"task": task.task, "num_traj": task.num_traj, "num_actions": task.num_actions,
             "traj_len": task.traj_len, "model_type": model.model_type, **phase2, "hidden_size": model.hidden_size,
             "separate_value": model.separate_value or None, "layer_norm": model.layer_norm or None,
             "first_dilation": model.first_dilation if model.model_type == "snail" else None,
             "depth_len": model.depth_len, "seed": config.seed,
             "precision": config.precision if config.precision != "fp32" else None,
             "init_from": agent_path(run_dir), "run_dir": run_dir.with_name(phase2_run_name(run_dir.name))}
    return "rl2-train " + shlex.join(flag_argv(flags))


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
        if args.num_workers is not None:
            if args.num_workers < 1:
                raise ConfigError(f"num_workers must be >= 1, got {args.num_workers}")
            torch.set_num_threads(args.num_workers)
        if args.out_file is not None and not args.out_file.endswith(".pt"):
            raise ConfigError(f"out_file must end in .pt, got {args.out_file!r}")
        t = config.task
        cell_dir = results_dir() / "runs" / run_name_for(default_run_name(config.model.model_type, t.task, t.num_actions,
                                                                          t.num_traj), config.seed)
        run_dir = args.run_dir or (Path("runs") / Path(args.out_file).stem if args.out_file else cell_dir)
        if (run_dir / "checkpoint.pt").exists() and not args.resume:
            raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --run_dir")
        print(f"training {config.model.model_type} on task {t.task} (k={t.num_actions}, n={t.num_traj}, "
              f"episode length {t.traj_len}); {config.ppo.num_trials} trials = {config.steps_per_update} steps "
              f"per update, minibatches of {config.ppo.minibatch_trials} trials; device {device}; run_dir {run_dir}")
        history = train(config, run_dir, resume=args.resume, device=device, progress=not args.no_progress)
    except (ConfigError, TrainingError) as error:
        cli_error(str(error))
    if args.out_file is not None:
        shutil.copyfile(run_dir / "checkpoint.pt", args.out_file)
    print(f"done: {len(history)} updates, last mean trial return {history[-1]['mean_trial_return']:.3f}; "
          f"checkpoint {run_dir / 'checkpoint.pt'}")
    phase2 = recipe_phase2(config.task, config.model.model_type)
    if phase2 is not None and args.recipe == "rl2lib" and config.init_from is None:
        print(f"the MDP recipe's second phase: {phase2_command(config, phase2, run_dir)}")
    return history


if __name__ == "__main__":
    main()
