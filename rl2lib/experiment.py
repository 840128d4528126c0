"""One cell of the learning tables: train (or resume, or load) an agent, evaluate it, compare.

The experiment notebooks (RL^2 / SNAIL on bandits / MDPs) call `run_cell` once per table cell.
A cell's run lives in `results/runs/<name>/`; a run that already holds at least the asked number
of updates is loaded, not retrained, so the quick profile reuses committed full-budget runs and
an interrupted cell resumes from its checkpoint. Training seed s > 0 goes to `<name>_seed<s>`
(`run_name_for`). The evaluation is the baselines': 1000 fresh tasks of the evaluation seed, the
mean total reward per trial and its standard error, of best.pt (the best policy on held-out
validation tasks) when the run validated, else of the final checkpoint. MDP cells train in two
phases (`rl2lib.cli.recipe_phase2`): the second, `<name>_phase2[_seed<s>]`, starts from the
first's best.pt, and the cell is its evaluation.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rl2lib.cli import config_from_flags, recipe_phase2, resolve_device
from rl2lib.config import ConfigError, TrainConfig
from rl2lib.evaluate import EvalResult, evaluate_policy
from rl2lib.paper import published_learner
from rl2lib.paths import default_run_name, phase_run_name, results_dir, run_name_for
from rl2lib.runs import CHECKPOINT_FILE, EVAL_FILE, agent_path, load_checkpoint, load_policy, write_evaluation
from rl2lib.train import train


@dataclass
class CellResult:
    """A trained cell: its (last) run, the learning history of every phase and the evaluation."""

    name: str
    run_dir: Path
    config: TrainConfig
    history: list[dict]
    evaluation: EvalResult
    paper_mean: float | None
    curves: dict[str, list[dict]]
    """Run name -> metrics rows, one entry per training phase (first phase first)."""

    def summary(self) -> str:
        last = self.history[-1]
        paper_text = f"; paper {self.paper_mean}" if self.paper_mean is not None else ""
        phases = f" (phases: {', '.join(self.curves)})" if len(self.curves) > 1 else ""
        return (
            f"{self.name}: {self.evaluation.mean:.3f} ± {self.evaluation.se:.3f} (SE) over "
            f"{self.evaluation.num_trials} fresh trials after {last['update']} updates, "
            f"{float(last['env_steps']):.3g} environment steps, {float(last['wall_seconds']) / 60:.1f} min"
            f"{phases}{paper_text}"
        )


def train_or_load(config: TrainConfig, run_dir: Path, allow_training: bool, device, progress: bool) -> bool:
    """Train or resume `config` in `run_dir` unless it already holds `config.num_updates` updates or
    training is not allowed; returns whether the run exists afterwards."""
    checkpoint_path = run_dir / CHECKPOINT_FILE
    done = checkpoint_path.exists() and load_checkpoint(checkpoint_path)["update"] >= config.num_updates
    if allow_training and not done:
        train(config, run_dir, resume=True, device=device, progress=progress)
    return checkpoint_path.exists()


def run_cell(
    model_type: str,
    task: str,
    num_actions: int,
    num_traj: int,
    num_updates: int | None = None,
    name: str | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    progress: bool = True,
    allow_training: bool = True,
    train_seed: int = 0,
    device: str = "cpu",
    phase2_updates: int = 0,
    **flags,
) -> CellResult:
    """Train, resume or load the agent of one table cell, then evaluate it on fresh seeded tasks.

    Args:
        num_updates: the budget in PPO updates; None takes the recipe's. A run that already holds
            at least this many updates is loaded as it is.
        name: the run's folder under results/runs/ (default `default_run_name`), suffixed by
            `_seed<s>` for train_seed s > 0.
        seed: the evaluation seed (the baselines' tasks); train_seed: the training seed.
        device: cpu, cuda or auto (cuda when present) for training and evaluation.
        allow_training: False loads the runs as they stand, however far they got (the quick profile
            evaluates committed runs this way); a missing first phase is then a FileNotFoundError,
            a missing second phase leaves the cell at the first.
        phase2_updates: > 0 (MDPs): then train `recipe_phase2` for this many updates in
            `<name>_phase2` from the first phase's best.pt, and evaluate that; `flags` apply to both.
        flags: any other trainer flag (e.g. hidden_size=64, batch_size=5000), as on the command line.

    Returns:
        CellResult; `results/runs/<name>/eval.json` (of the last phase) holds the evaluation.
    """
    config = config_from_flags(
        model_type=model_type,
        task=task,
        num_actions=num_actions,
        num_traj=num_traj,
        metalearn_epochs=num_updates,
        seed=train_seed,
        **flags,
    )
    phase2 = recipe_phase2(config.task, model_type) if phase2_updates > 0 else None
    if phase2_updates > 0 and phase2 is None:
        raise ConfigError(f"phase2_updates={phase2_updates}: the {task} recipe has no second phase (MDPs only)")
    base = name or default_run_name(model_type, task, num_actions, num_traj)
    device = resolve_device(device)
    run_dir = results_dir() / "runs" / run_name_for(base, train_seed)
    if not train_or_load(config, run_dir, allow_training, device, progress):
        raise FileNotFoundError(
            f"no run at {run_dir} and allow_training=False: train it first "
            f"(python -m rl2lib.reproduce --profile paper --only <cell>)"
        )
    curves = {run_dir.name: load_checkpoint(run_dir / CHECKPOINT_FILE)["metrics"]}
    if phase2 is not None:
        phase2_config = config_from_flags(
            model_type=model_type,
            task=task,
            num_actions=num_actions,
            num_traj=num_traj,
            seed=train_seed,
            **{**phase2, **flags, "metalearn_epochs": phase2_updates, "init_from": str(agent_path(run_dir))},
        )
        phase2_dir = results_dir() / "runs" / phase_run_name(run_dir.name, 2)
        if train_or_load(phase2_config, phase2_dir, allow_training, device, progress):
            run_dir = phase2_dir
            curves[run_dir.name] = load_checkpoint(run_dir / CHECKPOINT_FILE)["metrics"]
    policy, trained_config = load_policy(agent_path(run_dir), device)
    evaluation = evaluate_policy(policy, trained_config.task, num_trials, seed, device=device, name=run_dir.name)
    write_evaluation(run_dir, evaluation.to_dict(), EVAL_FILE)
    return CellResult(
        run_dir.name,
        run_dir,
        trained_config,
        curves[run_dir.name],
        evaluation,
        published_learner(model_type, task, num_actions, num_traj),
        curves,
    )


def load_cell_policy(cell: CellResult):
    """The cell's trained policy, ready to play (`rl2lib.evaluate.play_policy`)."""
    return load_policy(agent_path(cell.run_dir))[0]
