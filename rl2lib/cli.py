"""The command line of the trainer, `rl2-train`: its flag table (the original PyTorch project's flags
and meanings, `build_parser`), this workbook's recipes as plain data (`recipe`, `recipe_phase2`) beside
the original project's defaults, the mapping from flags to a `TrainConfig` (`config_from_args`, and
`config_from_flags` for keyword arguments, the notebooks' door), a resumed run's config, and the
rendering of flags back into commands (`flag_argv`, `phase2_command`). Also the one-line error, the
print of a report (quiet when its reader closes the pipe) and the device choice that every command
line of the package shares. Nothing here trains.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import torch

from rl2lib.config import DEVICE_NAMES, PAPER_SNAIL_WIDTH, ConfigError, ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.loop import PROGRESS_EVERY
from rl2lib.paths import phase_run_name, portable_path
from rl2lib.runs import CHECKPOINT_FILE, EXTENDABLE_FIELDS, agent_path, check_run_dir, load_checkpoint


def cli_error(message: str) -> None:
    """One-line error on stderr and exit code 2, no traceback."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def print_output(text: str) -> None:
    """Print a command's report on stdout; when its reader closes the pipe first (`| head`), stop
    quietly instead of with a BrokenPipeError traceback (the Python docs' recipe, "Note on SIGPIPE"
    in the `signal` module: stdout is pointed at devnull so that the exit's flush cannot fail again)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


def resolve_device(name: str) -> torch.device:
    """cpu, cuda, or auto (cuda when present) as a torch.device; anything else is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in DEVICE_NAMES:
        raise ConfigError(f"unknown device {name!r}; allowed: {', '.join(DEVICE_NAMES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' asked for but no CUDA device is available; use cpu or auto")
    return torch.device(name)


ORIGINAL_DEFAULTS = {  # rl2_train.py of the original project
    "metalearn_epochs": 300,
    "learning_rate": 3e-4,
    "gamma": 0.99,
    "num_tasks": 1000,
    "tau": 0.95,
    "mini_batch_size": 256,
    "batch_size": 10000,
    "ppo_epochs": 5,
    "clip_param": 0.1,
    "vf_coef": 0.5,
    "ent_coef": 0.01,
    "max_grad_norm": 0.9,
    "target_kl": 0.01,
    "hidden_size": 256,
    "validate_every": 0,
    "first_dilation": 2,
}


PPO_FLAGS = {  # flag: (PPOConfig field, type, help); "(original X)" is appended from ORIGINAL_DEFAULTS where it has one
    "learning_rate": ("learning_rate", float, "Adam step size"),
    "gamma": ("gamma", float, "discount over the whole trial"),
    "tau": ("gae_lambda", float, "GAE lambda"),
    "ppo_epochs": ("update_epochs", int, "passes over each batch"),
    "clip_param": ("clip_coef", float, "PPO clip epsilon"),
    "vf_coef": ("vf_coef", float, "value loss weight"),
    "ent_coef": ("ent_coef", float, "entropy bonus (ours decays to a tenth)"),
    "max_grad_norm": ("max_grad_norm", float, "gradient norm clip"),
    "target_kl": ("target_kl", float, "early-stop KL of an update (ours: none)"),
    "adam_eps": ("adam_eps", float, "Adam's epsilon (default 1e-5)"),
}
"""The PPO hyper-parameters that map one to one onto a `PPOConfig` field: the parser, `config_from_args` and
`config_to_flags` read this table, so a new one takes its field, a row here, and its use in `rl2lib.ppo`
(a value left out takes the recipe's, or the field's default where the recipe has none)."""


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
        "metalearn_epochs": num_updates,
        "learning_rate": 3e-3 if model_type == "gru" else 1e-3,
        "gamma": 0.99 if task.trial_len <= 50 else 1.0,
        "num_tasks": 0,
        "tau": 0.9 if bandit and task.trial_len > 50 else 0.3,
        "batch_size": steps,
        "mini_batch_size": steps // 4,
        "ppo_epochs": 4,
        "clip_param": 0.2,
        "vf_coef": 0.5,
        "ent_coef": 0.01,
        "max_grad_norm": 1.0,
        "target_kl": None,
        "hidden_size": 128,
        "validate_every": 10,
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
    return {
        "metalearn_epochs": 600,
        "tau": 0.9,
        "learning_rate": recipe(task, model_type)["learning_rate"] / 3,
        "batch_size": 100_000,
        "mini_batch_size": 25_000,
        "ent_coef": 0.001,
        "validate_trials": 2000,
    }


def build_parser() -> argparse.ArgumentParser:
    o = ORIGINAL_DEFAULTS
    p = argparse.ArgumentParser(
        prog="rl2-train",
        description="Train an RL^2 (GRU) or SNAIL policy with PPO + GAE over whole trials. Flags keep the "
        "original project's names and meanings; a flag left out takes this workbook's recipe for "
        "the task (see README), or the original default with --recipe original.",
    )
    add = p.add_argument
    add("--num_workers", type=int, default=None, help="CPU threads for torch (original: worker processes; default: all cores)")
    add("--model_type", default="gru", help="gru (RL^2) or snail (default gru)")
    add("--metalearn_epochs", type=int, help=f"PPO updates (original default {o['metalearn_epochs']})")
    add(
        "--task",
        default="bandit",
        help="bandit or mdp (default bandit: the original code's default, and what the first two sample "
        "commands' output names assume; its README said mdp). The trainer prints the task it trains on.",
    )
    for name, (_, kind, text) in PPO_FLAGS.items():
        add(f"--{name}", type=kind, help=f"{text} (original {o[name]})" if name in o else text)
    add("--num_actions", type=int, default=5, help="k arms (bandit) or actions (mdp); default 5")
    add(
        "--num_tasks",
        type=int,
        help="0: a fresh task for every trial (the papers' setting, our default, since a "
        f"fixed pool overfits); N > 0: a fixed pool of N training tasks (original default {o['num_tasks']})",
    )
    add("--num_traj", type=int, default=10, help="n, episodes per trial (default 10)")
    add("--traj_len", type=int, default=None, help="episode length (default 1 for bandits, 10 for mdp)")
    add(
        "--mini_batch_size",
        type=int,
        help=f"PPO minibatch in environment steps, rounded up to whole trials (original {o['mini_batch_size']})",
    )
    add("--batch_size", type=int, help=f"environment steps per update, rounded to whole trials (original {o['batch_size']})")
    add(
        "--anneal_lr",
        action="store_true",
        help="decay the learning rate linearly to 0 over the run (always on with --recipe original, as the original project did)",
    )
    add(
        "--value_per_step",
        action="store_true",
        help="the value head predicts the return per step left in the trial, multiplied back for GAE "
        "(the RL^2 input has no clock; --clock gives the policy one)",
    )
    add("--out_file", default=None, help="also write the final checkpoint here (a .pt file)")
    add("--recipe", default="rl2lib", help="defaults for flags left out: rl2lib (learns; default) or original")
    add(
        "--hidden_size",
        type=int,
        help="GRU units (ours 128: 2.5x faster than the RL^2 authors' 256, and enough for these tasks; original 256)",
    )
    add("--separate_value", action="store_true", help="GRU: a separate value GRU, as the RL^2 authors did")
    add(
        "--layer_norm",
        action="store_true",
        help="GRU: LayerNorm on the GRU outputs before the heads (as the best public PyTorch reproduction did)",
    )
    add(
        "--nonlinearity",
        default="tanh",
        help="GRU: the candidate activation, tanh (PyTorch's GRU; default) or relu (the RL^2 authors' code)",
    )
    add(
        "--clock",
        action="store_true",
        help="the policy also reads the fraction of the trial's steps left (a count it could keep itself; "
        "the papers' input has no clock)",
    )
    add(
        "--first_dilation",
        type=int,
        help="SNAIL: dilation of each TCBlock's first DenseBlock (2: the paper's "
        "TCBlock; 1: start at 1 so that the convolutions see step t-1; ours 1, original 2)",
    )
    add(
        "--snail_width",
        type=int,
        default=PAPER_SNAIL_WIDTH,
        help=f"SNAIL: the policy network's width D (input Linear, DenseBlock filters, attention keys and values); "
        f"the value network gets half (default {PAPER_SNAIL_WIDTH}, the paper's)",
    )
    add(
        "--depth_len",
        type=int,
        default=None,
        help="SNAIL: size each TCBlock for trials of this many steps "
        "(ceil(log2) DenseBlocks) instead of this task's: a short-trial network at a long-trial depth, to warm-start "
        "longer trials from it (default: the task's trial length)",
    )
    add(
        "--init_from",
        default=None,
        help="start from this checkpoint's policy, Adam state and return "
        "normaliser instead of a fresh network: a second training phase with other settings, or a horizon "
        "warm start from a run of the same model and task with fewer (or more) episodes per trial (SNAIL: the same "
        "ceil(log2 T); a GRU may have fewer units, widened so that it plays as before); steps and wall seconds "
        "count on from it",
    )
    add(
        "--init_temperature",
        type=float,
        default=1.0,
        help="with --init_from: divide the parent policy's logits by this (above 1: a nearly deterministic "
        "parent samples other actions again; default 1 keeps its policy)",
    )
    add(
        "--train_prior_b",
        type=float,
        default=1.0,
        help="bandits: draw the training tasks' arm probabilities from Beta(1, b) (above 1: poorer first arms, "
        "so more trials go on to fresh arms); validation and evaluation keep the paper's U[0, 1] (default 1: "
        "train on it too)",
    )
    add("--seed", type=int, default=0, help="random seed (default 0)")
    add("--device", default="auto", help="cpu, cuda or auto (default auto: cuda when present)")
    add(
        "--precision",
        default="fp32",
        help="fp32 (default) or bf16: the PPO update's forward and backward under "
        "bfloat16 autocast (CPU or CUDA); sampling, the loss, GAE, Adam and checkpoints stay fp32",
    )
    add(
        "--run_dir",
        type=Path,
        default=None,
        help="where config.json, metrics.csv and checkpoint.pt go "
        "(default: the table cell's run, results/runs/<model>_<task>_k<k>_n<n> (MDPs <model>_mdp_n<n>, seed s > 0 "
        "_seed<s>), which the tables and the explorer read; with --out_file, runs/<its stem>)",
    )
    add(
        "--resume",
        action="store_true",
        help="continue the run in --run_dir from its checkpoint, with its own "
        "settings (flags left out keep them; --metalearn_epochs, --checkpoint_every and the validation flags may change)",
    )
    add("--checkpoint_every", type=int, default=10, help="updates between checkpoints (default 10)")
    add(
        "--validate_every",
        type=int,
        help="every N updates, evaluate on held-out validation tasks (never the "
        "evaluation seed) and keep the best policy as best.pt; 0: never (ours 10, original 0)",
    )
    add("--validate_trials", type=int, default=1000, help="trials per validation (default 1000)")
    add(
        "--no_progress",
        action="store_true",
        help="no progress output (default: a bar on a terminal, "
        f"else a plain line every {PROGRESS_EVERY} updates and at each validation)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Map the original flags onto TrainConfig, rounding step counts to whole trials."""
    task = TaskConfig(task=args.task, num_actions=args.num_actions, num_traj=args.num_traj, traj_len=args.traj_len)
    if args.recipe not in ("rl2lib", "original"):
        raise ConfigError(f"unknown recipe {args.recipe!r}; allowed: rl2lib, original")
    defaults = recipe(task, args.model_type) if args.recipe == "rl2lib" else ORIGINAL_DEFAULTS
    value = {name: getattr(args, name) if getattr(args, name) is not None else default for name, default in defaults.items()}
    model = ModelConfig(
        model_type=args.model_type,
        hidden_size=value["hidden_size"],
        separate_value=args.separate_value,
        layer_norm=args.layer_norm,
        nonlinearity=args.nonlinearity,
        clock=args.clock,
        first_dilation=value["first_dilation"],
        snail_width=args.snail_width,
        depth_len=args.depth_len,
    )
    for name in ("batch_size", "mini_batch_size"):
        if value[name] < 1:
            raise ConfigError(f"{name} must be >= 1 environment steps, got {value[name]}")
    if value["mini_batch_size"] > value["batch_size"]:
        raise ConfigError(f"mini_batch_size ({value['mini_batch_size']}) must be <= batch_size ({value['batch_size']})")
    T = task.trial_len
    num_trials = max(1, round(value["batch_size"] / T))
    minibatch_trials = min(num_trials, max(1, math.ceil(value["mini_batch_size"] / T)))
    is_recipe = args.recipe == "rl2lib"
    hyper = {
        field: value[name] if name in value else getattr(args, name)  # a flag the recipe leaves out
        for name, (field, _, _) in PPO_FLAGS.items()
        if name in value or getattr(args, name) is not None
    }
    ppo = PPOConfig(
        num_trials=num_trials,
        minibatch_trials=minibatch_trials,
        **hyper,
        anneal_lr=args.anneal_lr or not is_recipe,
        value_per_step=args.value_per_step,
        ent_coef_final=hyper["ent_coef"] / 10 if is_recipe else None,
        norm_returns=is_recipe,
    )
    return TrainConfig(
        task=task,
        model=model,
        ppo=ppo,
        num_updates=value["metalearn_epochs"],
        num_tasks=value["num_tasks"],
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        validate_every=value["validate_every"],
        validate_trials=args.validate_trials,
        init_from=None if args.init_from is None else portable_path(args.init_from),
        precision=args.precision,
        init_temperature=args.init_temperature,
        train_prior_b=args.train_prior_b,
    )


RUN_FLAGS = ("run_dir", "resume", "num_workers", "device", "no_progress", "out_file")
"""Flags that say where and how a run goes, not what it trains: a resumed run may take any."""
EXTENDABLE_FLAGS = {
    "metalearn_epochs": "num_updates",
    "checkpoint_every": "checkpoint_every",
    "validate_every": "validate_every",
    "validate_trials": "validate_trials",
    "precision": "precision",
}
"""Flags a resumed run may change (`EXTENDABLE_FIELDS`), with the field each sets: how long it runs, how often it
checkpoints and validates, and the update's precision (a speed setting of the machine it resumes on,
`ppo.native_bf16`)."""


def given_flags(argv: list[str] | None) -> dict:
    """The flags typed on the command line `argv` (not those left to their defaults), by name."""
    parser = build_parser()
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def flat(config: TrainConfig) -> dict:
    """`config` as {'ppo.gae_lambda': 0.9, ...}: one entry per field."""
    return {
        f"{group}.{name}" if isinstance(values, dict) else group: value
        for group, values in config.to_dict().items()
        for name, value in (values.items() if isinstance(values, dict) else [(None, values)])
    }


def resumed_config(args: argparse.Namespace, argv: list[str] | None, run_dir: Path) -> TrainConfig:
    """The config of the run in `run_dir`, resumed from its checkpoint with the flags of `argv`: flags
    left out keep the run's own settings; a flag given must agree with them, unless it may change."""
    check_run_dir(run_dir, resume=True)
    saved = TrainConfig.from_dict(load_checkpoint(run_dir / CHECKPOINT_FILE)["config"])
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
                raise ConfigError(
                    f"--{name} {value} disagrees with the run in {run_dir} ({field} = "
                    f"{kept[field]!r}); a resumed run keeps its config.json, and may only "
                    f"change {', '.join('--' + f for f in EXTENDABLE_FLAGS)}"
                )
    return replace(
        saved,
        **{EXTENDABLE_FLAGS[name]: getattr(asked_config, EXTENDABLE_FLAGS[name]) for name in given if name in EXTENDABLE_FLAGS},
    )


def flag_argv(flags: dict) -> list[str]:
    """Command-line words for trainer flags given as a dict: True is a bare switch, None and False
    are left out (one rendering for `config_from_flags` and every printed command)."""
    argv = []
    for name, value in flags.items():
        if value is None or value is False:
            continue
        if value is True:
            argv.append(f"--{name}")
        else:  # a list is one flag with several words (nargs)
            argv += [f"--{name}", *map(str, value if isinstance(value, (list, tuple)) else [value])]
    return argv


def phase2_command(config: TrainConfig, phase2: dict, run_dir: Path) -> str:
    """The `rl2-train` command of the recipe's second phase after the run `config` in `run_dir`:
    the same task, model and seed, from its best policy, into `<run>_phase2[_seed<s>]`."""
    task, model = config.task, config.model
    flags = {
        "task": task.task,
        "num_traj": task.num_traj,
        "num_actions": task.num_actions,
        "traj_len": task.traj_len,
        "model_type": model.model_type,
        **phase2,
        "hidden_size": model.hidden_size,
        "separate_value": model.separate_value or None,
        "layer_norm": model.layer_norm or None,
        "nonlinearity": model.nonlinearity if model.nonlinearity != "tanh" else None,
        "clock": model.clock or None,
        "value_per_step": config.ppo.value_per_step or None,
        "first_dilation": model.first_dilation if model.model_type == "snail" else None,
        "snail_width": model.snail_width if model.snail_width != PAPER_SNAIL_WIDTH else None,
        "depth_len": model.depth_len,
        "seed": config.seed,
        "precision": config.precision if config.precision != "fp32" else None,
        "init_from": agent_path(run_dir),
        "run_dir": run_dir.with_name(phase_run_name(run_dir.name, 2)),
    }
    return "rl2-train " + shlex.join(flag_argv(flags))


def config_from_flags(**flags) -> TrainConfig:
    """The trainer's config from the command line's flags given as keyword arguments (the notebooks' door;
    no strings in between): a flag given as None takes its default, as when left off the command line.

    Raises:
        ConfigError: an unknown flag name (one line, with the known ones), or what `config_from_args` rejects.
    """
    args = build_parser().parse_args([])
    unknown = sorted(set(flags) - set(vars(args)))
    if unknown:
        raise ConfigError(f"unknown trainer flag(s) {', '.join(unknown)}; allowed: {', '.join(sorted(vars(args)))}")
    vars(args).update({name: value for name, value in flags.items() if value is not None})
    return config_from_args(args)


def config_to_flags(config: TrainConfig) -> dict:
    """The inverse of `config_from_flags`: the shortest flags (by name) whose config is `config`, tried in
    order: the task, model and budget alone; with the extras the recipe would set otherwise (seed,
    validation, SNAIL's dilation, width and depth, LayerNorm, the GRU's activation, the clock, --init_from, precision,
    the training prior); every flag.

    Raises:
        ConfigError: when no flags give `config` (a config built in code, not from a command line).
    """
    data = config.to_dict()
    task, model, ppo = data["task"], data["model"], data["ppo"]
    short = {
        "task": task["task"],
        "num_actions": task["num_actions"],
        "num_traj": task["num_traj"],
        "model_type": model["model_type"],
        "metalearn_epochs": data["num_updates"],
        "anneal_lr": ppo["anneal_lr"],
        "value_per_step": ppo["value_per_step"],
    }
    steps = task["num_traj"] * task["traj_len"]
    full = {
        **short,
        "hidden_size": model["hidden_size"],
        "batch_size": ppo["num_trials"] * steps,
        "mini_batch_size": ppo["minibatch_trials"] * steps,
        **{name: ppo[field] for name, (field, _, _) in PPO_FLAGS.items()},
        "num_tasks": data["num_tasks"],
        "seed": data["seed"],
        "separate_value": model["separate_value"],
        "anneal_lr": ppo["anneal_lr"],
    }
    extras = {
        "seed": data["seed"],
        "validate_every": data["validate_every"],
        "validate_trials": data["validate_trials"],
        "first_dilation": model["first_dilation"],
        "snail_width": model["snail_width"],
        "depth_len": model["depth_len"],
        "layer_norm": model["layer_norm"],
        "nonlinearity": model["nonlinearity"],
        "clock": model["clock"],
        "init_from": data["init_from"],
        "precision": data["precision"],
        "init_temperature": data["init_temperature"],
        "train_prior_b": data["train_prior_b"],
    }
    from_short = config_from_flags(**short, checkpoint_every=data["checkpoint_every"]).to_dict()
    from_short = {
        **from_short,
        "first_dilation": from_short["model"]["first_dilation"],
        "init_from": None,
        "init_temperature": 1.0,
        "train_prior_b": 1.0,
        "snail_width": PAPER_SNAIL_WIDTH,
        "depth_len": None,
        "layer_norm": False,
        "nonlinearity": "tanh",
        "clock": False,
    }
    extras = {name: value for name, value in extras.items() if from_short[name] != value}
    for flags in (short, {**short, **extras}, {**full, **extras}):
        try:
            if config_from_flags(**flags, checkpoint_every=data["checkpoint_every"]).to_dict() == data:
                return {**flags, "checkpoint_every": data["checkpoint_every"]} if data["checkpoint_every"] != 10 else flags
        except ConfigError:
            continue
    raise ConfigError("no rl2-train flags give this config")
