"""Throughput benchmark: environment steps per second for sampling and for end-to-end training.

`python -m rl2lib.bench` (`make bench`) prints a table and writes `results/bench/bench_<device>.json`:
for the GRU (256 units, the RL^2 authors' size) and SNAIL (the paper's widths) on the bandit
(n = 100, k = 5) and the MDP (n = 10), on the CPU and on CUDA when present, it times
- sampling alone: `collect_trials` on B whole trials of B different tasks;
- end to end: one training update (sampling plus 5 PPO epochs of 4 minibatches of whole trials);
- the same sampling done by a naive loop that steps one task at a time through a batch-1 network,
  the way the original project sampled: the ratio is what batching buys;
and the peak memory (resident set on CPU, allocated memory on CUDA).
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import torch

from rl2lib.config import ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.envs import TrialEnv, seeded_tasks
from rl2lib.paths import results_dir
from rl2lib.ppo import ReturnNormalizer, ppo_update
from rl2lib.rollout import collect_trials, sample_actions
from rl2lib.train import build_policy

SETTINGS = {"bandit_n100_k5": TaskConfig(task="bandit", num_actions=5, num_traj=100),
            "mdp_n10": TaskConfig(task="mdp", num_traj=10)}
TARGETS = {("gru", "sampling"): 200_000, ("gru", "training"): 8_000, ("snail", "training"): 2_000}


def timed(function, repeats: int, device: torch.device) -> float:
    """Best wall time of `repeats` calls, after one warm-up call."""
    function()
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return best


def naive_sampling_rate(policy, task_config: TaskConfig, num_trials: int) -> float:
    """Steps/s of sampling one task at a time with a batch-1 network (the baseline to beat)."""
    tasks = seeded_tasks(task_config, num_trials, seed=0)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    with torch.no_grad():
        for b in range(num_trials):
            env = TrialEnv(tasks.select(torch.tensor([b])), task_config, generator)
            obs, state = env.reset(), policy.initial_state(1, "cpu")
            for _ in range(task_config.trial_len):
                logits, _, state = policy.step(obs, state)
                obs = env.step(sample_actions(logits, generator)).obs
    return num_trials * task_config.trial_len / (time.perf_counter() - started)


def bench_one(model_type: str, setting: str, device: torch.device, num_trials: int, repeats: int) -> dict:
    task_config = SETTINGS[setting]
    config = TrainConfig(task=task_config, model=ModelConfig(model_type=model_type, hidden_size=256),
                         ppo=PPOConfig(num_trials=num_trials, minibatch_trials=num_trials // 4, update_epochs=5))
    policy = build_policy(config).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-4)
    tasks = seeded_tasks(task_config, num_trials, 0, device)
    env_gen, act_gen = torch.Generator(device=device).manual_seed(1), torch.Generator(device=device).manual_seed(2)
    minibatch_gen = torch.Generator().manual_seed(3)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sample = lambda: collect_trials(policy, tasks, task_config, env_gen, act_gen)  # noqa: E731
    normalizer = ReturnNormalizer()

    def update():
        batch = collect_trials(policy, tasks, task_config, env_gen, act_gen)
        ppo_update(policy, optimizer, batch, normalizer, config.ppo, 0.01, minibatch_gen)

    steps = num_trials * task_config.trial_len
    sampling = steps / timed(sample, repeats, device)
    training = steps / timed(update, repeats, device)
    naive = naive_sampling_rate(policy.cpu(), task_config, num_trials=4) if device.type == "cpu" else None
    peak = (torch.cuda.max_memory_allocated() if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return {"model": model_type, "setting": setting, "device": str(device), "threads": torch.get_num_threads(),
            "trials_per_batch": num_trials, "steps_per_batch": steps, "sampling_steps_per_s": round(sampling),
            "training_steps_per_s": round(training), "naive_sampling_steps_per_s": None if naive is None else round(naive),
            "batching_speedup": None if naive is None else round(sampling / naive, 1),
            "peak_memory_mib": round(peak / 2 ** 20, 1)}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m rl2lib.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--num_trials", type=int, default=1000, help="trials per batch (default 1000)")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats, best kept (default 2)")
    parser.add_argument("--models", default="gru,snail", help="comma-separated models (default gru,snail)")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    header = f"{'model':6s} {'setting':15s} {'device':6s} {'sampling/s':>11s} {'training/s':>11s} {'naive/s':>8s} {'x':>6s} {'peak MiB':>9s}"
    print(header)
    for device in devices:
        for model_type in args.models.split(","):
            for setting in SETTINGS:
                row = bench_one(model_type, setting, device, args.num_trials, args.repeats)
                rows.append(row)
                print(f"{row['model']:6s} {row['setting']:15s} {row['device']:6s} {row['sampling_steps_per_s']:>11,d} "
                      f"{row['training_steps_per_s']:>11,d} {row['naive_sampling_steps_per_s'] or 0:>8,d} "
                      f"{row['batching_speedup'] or 0:>6} {row['peak_memory_mib']:>9}", flush=True)
        out = results_dir() / "bench" / f"bench_{device.type}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"targets_2_cpu_cores": {f"{m} {k}": v for (m, k), v in TARGETS.items()},
                                   "rows": [r for r in rows if r["device"] == str(device)]}, indent=2) + "\n")
    print("targets on 2 CPU cores: GRU sampling >= 200,000 steps/s; training >= 8,000 (GRU), >= 2,000 (SNAIL)")
    return rows


if __name__ == "__main__":
    main()
