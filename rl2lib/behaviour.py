"""How agents explore, side by side on the same tasks: each agent (a baseline such as Gittins or BEB,
or a trained run) plays the same seeded trials. On bandits ([1] Sec. 3.1: k Bernoulli arms with
success probabilities drawn uniformly, n pulls) we report its expected total (the chosen arms' success
probabilities summed: the return without the coin flips' noise), its regret against pulling the best
arm every time, split into the first k pulls, the next 2k and the rest, how many distinct arms it has
tried by pull k, 2k, n/2 and n, the share of its last 20 pulls on the best arm, how often it switches
arms and how often it goes back to an arm it has left, and the share of trials whose first four arms tried
come in the commonest order (a learner may break the arms' symmetry into a fixed search order). On
tabular MDPs ([1] Sec. 3.2: n episodes of 10 steps in one random MDP) we report the total and the mean
return of episodes 1, 2, 5, 10, 25, 50, 75 and 100 (those within n) and of the last: how fast an agent
turns what it has seen into return, against the oracle, which knows the MDP and earns the same in every
episode. The README's campaign uses it to show where a policy loses to Gittins or
BEB; its default seed is none of the evaluation, confirmation, validation or tuning seeds.
References: [1] Duan et al. 2016, "RL^2"; Gittins 1979, "Bandit processes and dynamic allocation
indices"; BEB: Kolter and Ng 2009, "Near-Bayesian exploration in polynomial time".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from rl2lib.cli import cli_error, print_output
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.evaluate import baseline_param, load_checked_policy, play_baseline, play_policy
from rl2lib.runs import agent_path

PROFILE_SEED = 5_000_017
"""The tasks of a profile by default: not the evaluation seed 0, the confirming seed 2,000,003, the
validation seed 1,000,003, or the baselines' tuning seeds (1,000,000 + the evaluation seed)."""
LAST_PULLS = 20
ORDERED_ARMS = 4
"""How many of the first arms tried `commonest_order_share` compares."""
PROFILED_EPISODES = (1, 2, 5, 10, 25, 50, 75, 100)
"""The episodes of an MDP profile, those within the trial's n (and the last)."""


def exploration_profile(actions: torch.Tensor, arm_probs: torch.Tensor) -> dict[str, float]:
    """The profile of B trials: actions (T, B) long, the arms pulled; arm_probs (B, k), each task's
    success probabilities. Each entry is a mean over the B trials, keyed by what it holds."""
    num_pulls, num_arms = actions.shape[0], arm_probs.shape[1]
    chosen = arm_probs.gather(1, actions.T)  # (B, T): success probability of each pull
    regret = arm_probs.max(1, keepdim=True).values - chosen  # (B, T)
    per_pull = regret.mean(0)  # (T,)
    tried_set = torch.nn.functional.one_hot(actions.T, num_arms).cummax(1).values.bool()  # (B, T, k): arm tried by pull t
    tried = tried_set.sum(2)  # (B, T): arms tried by pull t
    profile = {"expected total": chosen.sum(1).mean().item(), "regret": regret.sum(1).mean().item()}
    bounds = sorted({0, min(num_arms, num_pulls), min(3 * num_arms, num_pulls), num_pulls})
    for start, stop in zip(bounds, bounds[1:]):
        profile[f"regret, pulls {start + 1}-{stop}"] = per_pull[start:stop].sum().item()
    for pull in sorted({min(num_arms, num_pulls), min(2 * num_arms, num_pulls), max(1, num_pulls // 2), num_pulls}):
        profile[f"arms tried by pull {pull}"] = tried[:, pull - 1].double().mean().item()
    last = min(LAST_PULLS, num_pulls)
    profile[f"best arm, last {last} pulls"] = (actions[-last:] == arm_probs.argmax(1)).double().mean().item()
    switched = actions[1:] != actions[:-1]  # (T - 1, B)
    profile["switches"] = switched.double().sum(0).mean().item()
    pulled_before = tried_set[:, :-1].gather(2, actions.T[:, 1:, None]).squeeze(2)  # (B, T - 1): arm of pull t+1 tried by t
    profile["returns to an arm left"] = (switched.T & pulled_before).double().sum(1).mean().item()
    profile[f"commonest order of the first {min(ORDERED_ARMS, num_arms)} arms"] = commonest_order_share(tried_set)
    return profile


def commonest_order_share(tried_set: torch.Tensor) -> float:
    """The share of B trials whose first j arms tried (j = min(ORDERED_ARMS, k), fewer where a trial tried fewer), in
    the order first pulled, are the commonest such sequence: near 1 for a policy that searches the arms in a fixed order
    (the arms are exchangeable, so any order is as good), near 0 for one that picks fresh arms at random. tried_set
    (B, T, k) bool: arm tried by pull t."""
    num_trials, num_pulls, num_arms = tried_set.shape
    first_pull = torch.where(tried_set.any(1), tried_set.int().argmax(1), num_pulls)  # (B, k): pull index, T if never
    times, order = first_pull.sort(1)  # (B, k): arms tried have distinct first pulls
    j = min(ORDERED_ARMS, num_arms)
    sequences = torch.where(times[:, :j] < num_pulls, order[:, :j], -1)  # (B, j), -1 past the arms tried
    return torch.unique(sequences, dim=0, return_counts=True)[1].max().item() / num_trials


def episode_profile(rewards: torch.Tensor, num_traj: int) -> dict[str, float]:
    """The profile of B trials of `num_traj` equal episodes: rewards (T, B), T = num_traj x the episode
    length. Each entry is a mean over the B trials: the total, then the return of each profiled episode."""
    per_episode = rewards.double().reshape(num_traj, -1, rewards.shape[1]).sum(1).mean(1)  # (n,)
    episodes = sorted({episode for episode in PROFILED_EPISODES if episode <= num_traj} | {num_traj})
    return {"total": per_episode.sum().item(), **{f"episode {e}": per_episode[e - 1].item() for e in episodes}}


def play_agent(agent: str, played: TaskConfig | None, task: str | None, sizes: dict, num_trials: int, seed: int):
    """(task config, tasks, actions (T, B), rewards (T, B)) of `agent` (a baseline name, a checkpoint or
    a run folder) on the seeded tasks. `played`, the task an earlier trained agent fixed, is what every
    later agent plays (a trained one with other episodes or states is a ConfigError); before it, a
    trained agent plays its own task, k and n where `task` and `sizes` leave them open (another task or k
    is a ConfigError), and a baseline bandits of 5 arms and 10 pulls, or MDPs of 10 episodes."""
    path = Path(agent)
    checkpoint = agent_path(path) if path.is_dir() else path
    if checkpoint.suffix == ".pt":
        if played is not None:  # the same task, k and n as the agents before it
            task, sizes = played.task, {"num_actions": played.num_actions, "num_traj": played.num_traj}
        policy, task_config = load_checked_policy(checkpoint, task=task, **sizes)
        if played is not None and task_config != played:
            differ = [
                f"{name} {getattr(task_config, name)}"
                for name in ("traj_len", "num_states")
                if getattr(task_config, name) != getattr(played, name)
            ]
            raise ConfigError(f"{agent} plays {', '.join(differ)}, unlike the agent before it")
        tasks, batch = play_policy(policy, task_config, num_trials, seed)
        return task_config, tasks, batch.actions, batch.rewards
    task_config = played or TaskConfig(task=task or "bandit", **{"num_actions": 5, "num_traj": 10, **sizes})
    param = baseline_param(task_config, agent, None, num_trials, seed)
    _, tasks, record = play_baseline(task_config, agent, param, num_trials, seed)
    return task_config, tasks, record.actions, record.rewards


def profiles_markdown(agents: list[str], task: str | None, sizes: dict, num_trials: int, seed: int) -> str:
    """The table: one column per agent, one row per entry of `exploration_profile` (bandits) or
    `episode_profile` (MDPs). Trained agents are played first, so that the first of them fixes the task
    every agent plays (its episode length and states too) where `task` and `sizes` leave it open."""
    trained_first = sorted(agents, key=lambda agent: not (Path(agent).is_dir() or agent.endswith(".pt")))
    profiles, played = {}, None
    for agent in trained_first:
        played, tasks, actions, rewards = play_agent(agent, played, task, sizes, num_trials, seed)
        if played.task == "bandit":
            profiles[agent] = exploration_profile(actions, tasks.arm_probs.to(torch.float64))
        else:
            profiles[agent] = episode_profile(rewards, played.num_traj)
    k, n = played.num_actions, played.num_traj
    if played.task == "bandit":
        setting = f"bandit k = {k}, n = {n}"
    else:
        setting = f"mdp ({played.num_states} states, {k} actions, episodes of {played.traj_len} steps), n = {n}"
    lines = [
        f"{setting}: {num_trials} tasks of seed {seed}",
        "",
        f"| | {' | '.join(agents)} |",
        "|---" * (len(agents) + 1) + "|",
    ]
    for row in profiles[agents[0]]:
        lines.append(f"| {row} | {' | '.join(f'{profiles[agent][row]:.2f}' for agent in agents)} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rl2lib.behaviour", description=__doc__.split(":")[0] + ".")
    parser.add_argument("agents", nargs="+", help="baseline names (gittins, ucb1, beb, ...), checkpoints (.pt) or run folders")
    parser.add_argument("--task", default=None, help="bandit or mdp (default: the first trained agent's, else bandit)")
    parser.add_argument(
        "--num_actions", type=int, default=None, help="k arms or actions (default: the first trained agent's, else 5)"
    )
    parser.add_argument(
        "--num_traj", type=int, default=None, help="n pulls or episodes (default: the first trained agent's, else 10)"
    )
    parser.add_argument("--num_trials", type=int, default=2000, help="trials (= tasks) per agent (default 2000)")
    parser.add_argument("--seed", type=int, default=PROFILE_SEED, help=f"task seed (default {PROFILE_SEED})")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        if args.num_trials < 1:
            raise ConfigError(f"num_trials must be >= 1, got {args.num_trials}")
        if args.task is not None:
            TaskConfig(task=args.task)  # an unknown task is a ConfigError
        sizes = {key: value for key in ("num_actions", "num_traj") if (value := getattr(args, key)) is not None}
        report = profiles_markdown(args.agents, args.task, sizes, args.num_trials, args.seed)
    except ConfigError as error:
        cli_error(str(error))
    print_output(report)


if __name__ == "__main__":
    main()
