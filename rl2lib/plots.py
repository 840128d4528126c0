"""Figures. Each function returns a matplotlib Figure; saving is `save_figure`'s job.

References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch


def save_figure(figure: plt.Figure, path: Path) -> Path:
    """Write `figure` as PNG (parents created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    return path


def plot_bandit_trials(actions: torch.Tensor, rewards: torch.Tensor, arm_probs: torch.Tensor,
                       title: str = "", max_trials: int = 3) -> plt.Figure:
    """Arm choices and cumulative reward over a few bandit trials.

    Args:
        actions, rewards: (T, B) from one batch of trials; arm_probs: (B, K) the tasks' arms.
    """
    num = min(max_trials, actions.shape[1])
    figure, axes = plt.subplots(2, num, figsize=(4.2 * num, 5.5), squeeze=False, sharex=True)
    steps = np.arange(1, actions.shape[0] + 1)
    for b in range(num):
        probs = arm_probs[b].cpu().numpy()
        best = int(probs.argmax())
        top = axes[0, b]
        chosen = actions[:, b].cpu().numpy()
        colors = np.where(chosen == best, "tab:green", "tab:gray")
        top.scatter(steps, chosen, c=colors, s=14)
        top.set_yticks(range(len(probs)), [f"{i}: p={p:.2f}" for i, p in enumerate(probs)], fontsize=7)
        top.set_title(f"trial {b}: arm pulled (green = best arm)", fontsize=9)
        bottom = axes[1, b]
        bottom.plot(steps, rewards[:, b].cumsum(0).cpu().numpy(), label="cumulative reward")
        bottom.plot(steps, steps * probs.max(), "--", color="tab:green", label="best arm in expectation")
        bottom.plot(steps, steps * probs.mean(), ":", color="tab:gray", label="random in expectation")
        bottom.set_xlabel("pull")
        bottom.legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_mdp_visits(states: torch.Tensor, traj_len: int, num_states: int, trial: int = 0,
                    title: str = "") -> plt.Figure:
    """Visit counts of each state in each episode of one MDP trial. states: (T, B)."""
    visits = states[:, trial].cpu().numpy().reshape(-1, traj_len)  # (n, traj_len)
    counts = np.stack([np.bincount(row, minlength=num_states) for row in visits], axis=1)  # (S, n)
    figure, axis = plt.subplots(figsize=(min(12, 2 + 0.5 * counts.shape[1]), 3.5))
    image = axis.imshow(counts, aspect="auto", cmap="viridis", origin="lower")
    axis.set_xlabel("episode")
    axis.set_ylabel("state")
    figure.colorbar(image, ax=axis, label="visits in the episode")
    axis.set_title(title or f"trial {trial}: where the agent goes, episode by episode")
    return figure


def plot_cumulative_rewards(rewards_by_agent: dict[str, torch.Tensor], title: str = "") -> plt.Figure:
    """Mean cumulative reward over the trial for several agents. Each value: rewards (T, B)."""
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, rewards in rewards_by_agent.items():
        mean = rewards.double().cumsum(0).mean(1).cpu().numpy()
        axis.plot(np.arange(1, len(mean) + 1), mean, label=name)
    axis.set_xlabel("step of the trial")
    axis.set_ylabel("mean cumulative reward")
    axis.set_title(title)
    axis.legend(fontsize=8)
    return figure


def plot_table_vs_paper(rows: list[dict], title: str = "") -> plt.Figure:
    """Ours (bars with 1.96 SE error bars) against the published numbers (black ticks), per setting.

    Args:
        rows: table rows with keys n, k, agent, mean, se and paper ('' where none).
    """
    settings = sorted({(row["n"], row["k"]) for row in rows})
    agents = list(dict.fromkeys(row["agent"] for row in rows))
    figure, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings), 3.8), squeeze=False)
    for axis, (n, k) in zip(axes[0], settings):
        cell = {row["agent"]: row for row in rows if (row["n"], row["k"]) == (n, k)}
        x = np.arange(len(agents))
        means = [cell[a]["mean"] if a in cell else np.nan for a in agents]
        errors = [1.96 * cell[a]["se"] if a in cell else 0 for a in agents]
        axis.bar(x, means, yerr=errors, color="tab:blue", alpha=0.7, capsize=2, label="ours")
        published = [cell[a]["paper"] if a in cell and cell[a]["paper"] != "" else np.nan for a in agents]
        axis.scatter(x, published, marker="_", s=200, color="black", zorder=3, label="paper")
        finite = [m for m in means + published if np.isfinite(m)]
        low, high = min(finite), max(finite)
        axis.set_ylim(low - 0.15 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
        axis.set_xticks(x, agents, rotation=70, fontsize=7)
        axis.set_title(f"n={n}" + (f", k={k}" if rows[0].get("task") == "bandit" else ""), fontsize=9)
    axes[0, 0].legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_learning_curves(histories: dict[str, list[dict]], references: dict[str, float] | None = None,
                         title: str = "") -> plt.Figure:
    """Mean trial return of the training batches against environment steps, one line per run, and
    the held-out validation returns as dots where the run validated (`--validate_every`).

    Args:
        histories: run name -> metrics rows (keys env_steps, mean_trial_return, optional validation_return).
        references: label -> a horizontal line (the paper's number, a baseline, a ceiling).
    """
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for index, (name, rows) in enumerate(histories.items()):
        steps = np.array([float(row["env_steps"]) for row in rows])
        returns = np.array([float(row["mean_trial_return"]) for row in rows])
        axis.plot(steps, returns, label=name, lw=1.2, color=f"C{index}")
        validated = [(float(row["env_steps"]), float(row["validation_return"])) for row in rows
                     if row.get("validation_return") not in (None, "")]
        if validated:
            axis.plot(*zip(*validated), ".", ms=3, color=f"C{index}", label=f"{name} (validation)")
    for index, (label, value) in enumerate((references or {}).items()):
        axis.axhline(value, ls="--", lw=0.9, color=f"C{index + len(histories)}", label=label)
    if references:  # axhline does not widen the y range: keep every reference line in view
        low, high = axis.get_ylim()
        margin = 0.02 * (max(high, *references.values()) - min(low, *references.values()))
        axis.set_ylim(min(low, min(references.values()) - margin), max(high, max(references.values()) + margin))
    axis.set_xlabel("environment steps")
    axis.set_ylabel("mean total reward per trial (training batch)")
    axis.set_title(title)
    axis.legend(fontsize=7)
    return figure
