"""The run folder, the one module that reads and writes it: `results/runs/<name>/` holds config.json
(the run's config), metrics.csv (one row per update), checkpoint.pt (everything a resume needs,
written atomically), best.pt (the policy of the best validation return), eval.json (the tables'
evaluation: 1000 tasks of seed 0) and confirm.json (10,000 tasks of another seed), and, while a process
trains it, that process's lock on training.lock (`training_lock`). Checkpoints carry a
format tag, so a foreign file is a one-line `TrainingError`; `load_policy` rebuilds a trained
GRU or SNAIL from its checkpoint alone (`rl2lib.models.build_policy`), and `agent_path` names the
file that a run's evaluation, the explorer and the tables play; `load_parent` checks and reads an
`--init_from` parent (a horizon warm start), and `taught_by` names the baseline a line started from when a
parent up its line is an imitation (imitation.json, `rl2lib.imitate`). Nothing here trains or evaluates.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from functools import partial
from pathlib import Path

import torch

from rl2lib.config import ConfigError, TaskConfig, TrainConfig
from rl2lib.models import build_policy
from rl2lib.models.snail import num_dense_blocks
from rl2lib.paths import repo_path, results_dir

CONFIG_FILE, METRICS_FILE, CHECKPOINT_FILE, BEST_FILE = "config.json", "metrics.csv", "checkpoint.pt", "best.pt"
EVAL_FILE, CONFIRM_FILE = "eval.json", "confirm.json"
IMITATION_FILE = "imitation.json"
"""An imitation's settings (`rl2lib.imitate`); such a folder has no config.json, so no table takes it for a trained run."""
LOCK_FILE = "training.lock"
"""Locked (flock) by the process training the run; it holds that process's id. Not committed."""
CHECKPOINT_FORMAT = "rl2lib-checkpoint-v1"
"""The format tag of the trainer's checkpoints (GRU and SNAIL); MAML's carry their own."""
METRIC_FIELDS = (
    "update",
    "env_steps",
    "wall_seconds",
    "mean_trial_return",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_frac",
    "epochs",
    "learning_rate",
    "ent_coef",
    "validation_return",
    "validation_se",
)
"""The trainer's metrics.csv columns."""


class TrainingError(RuntimeError):
    """A run that cannot go on (diverged, or a checkpoint that does not fit); one-line message."""


EXTENDABLE_FIELDS = ("num_updates", "checkpoint_every", "validate_every", "validate_trials", "precision")


@contextmanager
def training_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock while training it: a second process training the same folder (a
    campaign started twice, a notebook beside a campaign) stops at once with a one-line TrainingError
    instead of both writing one checkpoint. The operating system's lock (flock) goes with its process,
    so a run killed in any way leaves no stale lock behind; a folder it made for a run that stopped
    before writing anything (a bad --init_from, say) goes again."""
    made = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise TrainingError(
                f"{run_dir} is being trained by another process{f' (pid {holder})' if holder else ''}: "
                "let it finish or stop it, or train into another --run_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            if made and [path.name for path in run_dir.iterdir()] == [LOCK_FILE]:
                (run_dir / LOCK_FILE).unlink()
                run_dir.rmdir()
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_training(run_dir: Path) -> bool:
    """Whether a process holds the run folder's lock (`training_lock`) now."""
    try:
        with open(run_dir / LOCK_FILE) as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    except BlockingIOError:
        return True
    return False


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A command line's run folder: --resume needs a checkpoint there to continue, a new run a folder
    without one (nothing is overwritten). One-line ConfigErrors."""
    holds_run = (run_dir / CHECKPOINT_FILE).exists()
    if resume and not holds_run:
        raise ConfigError(f"--resume: {run_dir} holds no {CHECKPOINT_FILE} to continue; drop --resume to start a run there")
    if not resume and holds_run:
        raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --run_dir")


def same_run(saved: dict, new: dict) -> bool:
    """A resumed run may only change how long it runs, how often it checkpoints and how it validates, and the
    precision of its updates.
    The saved config goes through TrainConfig first, so fields added since it was written take their defaults."""
    saved = TrainConfig.from_dict(saved).to_dict()
    return all(saved.get(key) == new.get(key) for key in set(saved) | set(new) if key not in EXTENDABLE_FIELDS)


def runs_dir() -> Path:
    return results_dir() / "runs"


def save_atomic(obj, path: Path) -> None:
    """torch.save to a temporary file, then rename: a cut-off write never leaves a broken file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def trainer_checkpoint(
    config: TrainConfig,
    update: int,
    policy,
    optimizer,
    normalizer,
    generators: dict,
    history: list[dict],
    best: float,
    offsets: dict,
) -> dict:
    """What the trainer's checkpoint.pt and best.pt hold after `update` updates (`CHECKPOINT_FORMAT`): the config,
    the policy's and Adam's state, the return normaliser's, the named generators' states, the metrics rows, the
    best validation return so far, and where the step and wall counts started (an `--init_from` parent's)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_dict(),
        "update": update,
        "model": policy.state_dict(),
        "optimizer": optimizer.state_dict(),
        "normalizer": normalizer.state_dict(),
        "generators": {name: generator.get_state() for name, generator in generators.items()},
        "metrics": history,
        "best_validation": best,
        "offsets": offsets,
    }


def write_config(run_dir: Path, config: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def read_config(run_dir: Path) -> dict | None:
    """The run's config.json, or None where there is none (or a half-written one)."""
    try:
        return json.loads((run_dir / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_imitation(run_dir: Path, settings: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / IMITATION_FILE).write_text(json.dumps(settings, indent=2) + "\n")


def read_imitation(run_dir: Path) -> dict | None:
    """The folder's imitation.json, or None where there is none."""
    path = run_dir / IMITATION_FILE
    return json.loads(path.read_text()) if path.exists() else None


def taught_by(config: dict, depth: int = 0) -> str | None:
    """The baseline whose play a run's line started from: the teacher of the first `--init_from` parent, up its
    line, that is an imitation (`rl2lib.imitate`), else None (a line learned from reward alone)."""
    if not config.get("init_from") or depth > 50:
        return None
    parent_dir = repo_path(config["init_from"]).parent
    imitation = read_imitation(parent_dir)
    if imitation is not None:
        return imitation["teacher"]
    parent_config = read_config(parent_dir)
    return None if parent_config is None else taught_by(parent_config, depth + 1)


def write_metrics(path: Path, history: list[dict], fields: tuple[str, ...] = METRIC_FIELDS) -> None:
    """Rewrite metrics.csv from `history` (at a run's start or resume: rows past the checkpoint go)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(history)
    os.replace(tmp, path)


def append_metrics(path: Path, row: dict, fields: tuple[str, ...] = METRIC_FIELDS) -> None:
    """Add one update's row to metrics.csv."""
    with open(path, "a", newline="") as handle:
        csv.DictWriter(handle, fieldnames=fields, restval="").writerow(row)


def read_metrics(run_dir: Path) -> list[dict]:
    """The rows of the run's metrics.csv as strings ([] where there is none)."""
    path = run_dir / METRICS_FILE
    return list(csv.DictReader(path.read_text().splitlines())) if path.exists() else []


def load_checkpoint(path: Path | str, checkpoint_format: str = CHECKPOINT_FORMAT) -> dict:
    """Read a checkpoint of `checkpoint_format`; a missing or foreign file is a one-line TrainingError."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # any unreadable file is reported the same way
        raise TrainingError(f"checkpoint {path} cannot be read ({type(error).__name__}): not an rl2lib checkpoint")
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != checkpoint_format:
        raise TrainingError(f"{path} is not an rl2lib checkpoint (format {checkpoint_format})")
    return checkpoint


def trained_updates(run_dir: Path, checkpoint_format: str = CHECKPOINT_FORMAT) -> int:
    """Updates in the run's last checkpoint (0 when it has none)."""
    path = run_dir / CHECKPOINT_FILE
    return load_checkpoint(path, checkpoint_format)["update"] if path.exists() else 0


def load_policy(
    path: Path | str, device: torch.device | str = "cpu", task: TaskConfig | None = None
) -> tuple[torch.nn.Module, TrainConfig]:
    """The trained policy and its config from a checkpoint, built for trials of `task` (default: the
    checkpoint's; a SNAIL keeps the TCBlock depth it was trained with, so its weights fit any T)."""
    checkpoint = load_checkpoint(path)
    config = TrainConfig.from_dict(checkpoint["config"])
    if task is not None and task != config.task:
        depth_len = config.model.depth_len or config.task.trial_len if config.model.model_type == "snail" else None
        config = replace(config, task=task, model=replace(config.model, depth_len=depth_len))
    torch.manual_seed(config.seed)  # as when it was trained (the weights are then overwritten)
    policy = build_policy(config.task, config.model)
    policy.load_state_dict(checkpoint["model"])
    return policy.to(device).eval(), config


def agent_path(run_dir: Path) -> Path:
    """What a run's evaluation plays: best.pt when the run validated, else the final checkpoint."""
    best = run_dir / BEST_FILE
    return best if best.exists() else run_dir / CHECKPOINT_FILE


def write_evaluation(run_dir: Path, record: dict, file: str = EVAL_FILE) -> None:
    """A run's evaluation as the tables read it (`file`: eval.json, or confirm.json): the evaluation's
    record (`rl2lib.evaluate.EvalResult.to_dict`) and which file of the run it played."""
    record = {**record, "played": agent_path(run_dir).name}
    tmp = run_dir / (file + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, run_dir / file)


def read_evaluation(run_dir: Path, file: str = EVAL_FILE) -> dict | None:
    """The run's eval.json (or confirm.json), or None where it has none."""
    path = run_dir / file
    return json.loads(path.read_text()) if path.exists() else None


def iter_runs() -> Iterator[tuple[Path, dict]]:
    """(run folder, config) of every run under results/runs/ with a readable config.json, by name."""
    for config_path in sorted(runs_dir().glob(f"*/{CONFIG_FILE}")):
        config = read_config(config_path.parent)
        if isinstance(config, dict) and "task" in config and "model_type" in config.get("model", {}):
            yield config_path.parent, config


def tc_depth(config: TrainConfig) -> int:
    """SNAIL's DenseBlocks per TCBlock: ceil(log2) of `model.depth_len`, or of the trial length."""
    return num_dense_blocks(config.model.depth_len or config.task.trial_len)


def grow_parameter(parent: dict, index: int, name: str, grow, fresh=torch.zeros) -> None:
    """Replace parameter `name` of checkpoint `parent` (the policy's `index`-th, the key of its Adam state) by
    `grow(tensor, fresh)`, and each of its Adam moments by `grow(moment, torch.zeros)`: `grow` adds entries
    drawn by the function it is given (which takes a shape), so that a new entry's moments start at zero."""
    parent["model"][name] = grow(parent["model"][name], fresh)
    moments = parent["optimizer"]["state"].get(index, {})
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        if key in moments:
            moments[key] = grow(moments[key], torch.zeros)


def add_clock_input(parent: dict, parent_config: TrainConfig) -> None:
    """Widen a GRU checkpoint without a clock to a policy with one (`ModelConfig.clock`, the input's last
    column): each GRU's input weights, and their Adam moments, get a zero column, so that the policy plays
    as the parent did until training moves it."""
    names = [name for name, _ in build_policy(parent_config.task, parent_config.model).named_parameters()]
    for name in ("policy_gru.weight_ih_l0", "value_gru.weight_ih_l0"):
        if name in parent["model"]:  # (3H, O) -> (3H, O + 1)
            grow_parameter(parent, names.index(name), name, lambda tensor, _: torch.nn.functional.pad(tensor, (0, 1)))


def add_hidden_units(parent: dict, parent_config: TrainConfig, hidden_size: int, seed: int) -> None:
    """Widen a GRU checkpoint of H units to `hidden_size` H' > H units that play as the parent did (a
    function-preserving widening, as Net2Net's, Chen et al. 2016, arXiv:1511.05641): each new unit's gate rows
    draw PyTorch's GRU initialisation, U(-1/sqrt(H'), 1/sqrt(H')) from `seed`, so that the new units follow the
    trial, while what the old units' gates and the heads read from a new unit is zero, so that no output moves
    until training moves it. The new entries' Adam moments start at zero. LayerNorm, whose statistics take in
    every unit, cannot be widened so."""
    H, wide = parent_config.model.hidden_size, hidden_size
    generator = torch.Generator().manual_seed(seed)
    names = [name for name, _ in build_policy(parent_config.task, parent_config.model).named_parameters()]

    def fresh(shape: tuple[int, ...]) -> torch.Tensor:
        return (2 * torch.rand(shape, generator=generator) - 1) / wide**0.5

    def add_gate_rows(tensor: torch.Tensor, rows) -> torch.Tensor:  # (3H, ...) -> (3H', ...): rows per gate r, z, n
        gates = tensor.reshape(3, H, *tensor.shape[1:])
        return torch.cat([gates, rows((3, wide - H, *tensor.shape[1:])).to(tensor)], 1).reshape(3 * wide, *tensor.shape[1:])

    def widen(tensor: torch.Tensor, rows, name: str) -> torch.Tensor:
        if name.endswith("head.weight"):  # (A, H) -> (A, H'): the heads read nothing from a new unit
            return torch.nn.functional.pad(tensor, (0, wide - H))
        if name.endswith("weight_hh_l0"):  # (3H, H) -> (3H', H'): the old gates read nothing from a new unit
            tensor = torch.nn.functional.pad(tensor, (0, wide - H))
        return add_gate_rows(tensor, rows) if "_gru." in name else tensor

    for index, name in enumerate(names):
        grow_parameter(parent, index, name, partial(widen, name=name), fresh)


def load_parent(config: TrainConfig) -> dict:
    """The `--init_from` checkpoint of `config`: the same model on the same task family, k and episode
    length, with any number of episodes per trial (a horizon warm start, e.g. bandit n = 100 -> 500, or a
    run brought back from longer trials, n = 200 -> 100). A GRU's weights do not depend on the trial
    length; SNAIL's TCBlock depth, ceil(log2 T), does, so a SNAIL parent must have the same depth. A GRU
    without a clock can start a GRU with one (`add_clock_input`), and a GRU without LayerNorm a wider one
    (`add_hidden_units`)."""
    parent = load_checkpoint(repo_path(config.init_from))
    parent_config = TrainConfig.from_dict(parent["config"])
    if config.model.model_type == "gru" and config.model.clock and not parent_config.model.clock:
        add_clock_input(parent, parent_config)
        parent_config = replace(parent_config, model=replace(parent_config.model, clock=True))
    if (
        config.model.model_type == "gru"
        and not config.model.layer_norm
        and config.model.hidden_size > parent_config.model.hidden_size
    ):
        add_hidden_units(parent, parent_config, config.model.hidden_size, config.seed)
        parent_config = replace(parent_config, model=replace(parent_config.model, hidden_size=config.model.hidden_size))
    differences = [
        f"{name} {getattr(parent_part, name)!r} (this run: {getattr(part, name)!r})"
        for parent_part, part, free in (
            (parent_config.task, config.task, "num_traj"),
            (parent_config.model, config.model, "depth_len"),
        )
        for name in (field.name for field in fields(part))
        if name != free and getattr(parent_part, name) != getattr(part, name)
    ]
    if differences:
        raise TrainingError(
            f"--init_from {config.init_from} holds another task or model, {', '.join(differences)}; it must hold "
            "this run's model on the same task (k, episode length), with any number of episodes per trial"
        )
    if config.model.model_type == "snail" and tc_depth(parent_config) != tc_depth(config):
        raise TrainingError(
            f"--init_from {config.init_from}: SNAIL's TCBlocks have ceil(log2 T) layers, "
            f"{tc_depth(parent_config)} at T={parent_config.task.trial_len} but {tc_depth(config)} "
            f"at T={config.task.trial_len}; build both at one depth (--depth_len)"
        )
    return parent
