"""Throughput benchmark: environment steps per second where the training compute goes, against a bound.

`python -m rl2lib.bench` (`make bench`) prints a table and writes `results/bench/bench_<device>.json`:
per model (GRU or SNAIL), size (`paper`: [1]'s GRU of 256 units and [2]'s SNAIL at TCBlock depth
ceil(log2 T); `recipe`: this workbook's), setting (task and trial length T = 100 to 1000), device and
precision, the sampling, end-to-end training and bound rates, each as a median with its min-max, and
the peak memory; `build_parser`'s epilog (`--help`) says what each figure times.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import torch

from rl2lib.config import PRECISIONS, ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.envs import seeded_tasks
from rl2lib.models import build_policy
from rl2lib.paths import results_dir
from rl2lib.ppo import ReturnNormalizer, cpu_bf16_units, ppo_update, update_autocast
from rl2lib.rollout import collect_trials
from rl2lib.threads import WAIT_POLICY

SETTINGS = {
    "bandit_n100_k5": TaskConfig(task="bandit", num_actions=5, num_traj=100),
    "mdp_n10": TaskConfig(task="mdp", num_traj=10),
    "bandit_n500_k50": TaskConfig(task="bandit", num_actions=50, num_traj=500),
    "bandit_n1000_k50": TaskConfig(task="bandit", num_actions=50, num_traj=1000),
    "mdp_n50": TaskConfig(task="mdp", num_traj=50),
    "mdp_n100": TaskConfig(task="mdp", num_traj=100),
}
SIZES = ("paper", "recipe")
UPDATE_EPOCHS, NUM_MINIBATCHES = 5, 4
TARGETS = {("gru", "sampling"): 200_000, ("gru", "training"): 8_000, ("snail", "training"): 2_000}


def model_config(model_type: str, size: str) -> ModelConfig:
    """The network of a row: the papers' sizes, or this workbook's recipe (GRU 128 units; SNAIL from
    dilation 1, at the depth of T = 100 on longer trials, `rl2lib.campaign_runs.SNAIL_DEPTH`)."""
    if model_type == "gru":
        return ModelConfig(model_type="gru", hidden_size=256 if size == "paper" else 128)
    if size == "paper":
        return ModelConfig(model_type="snail", first_dilation=2)
    return ModelConfig(model_type="snail", first_dilation=1, depth_len=100)


def repeated(function, repeats: int, device: torch.device) -> list[float]:
    """Wall seconds of `repeats` calls of `function`, after one warm-up call."""
    function()
    seconds = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return seconds


def naive_sampling_rate(policy, task_config: TaskConfig, num_trials: int) -> float:
    """Steps/s of sampling one task at a time (`collect_trials` on a batch of 1: the baseline to beat)."""
    tasks = seeded_tasks(task_config, num_trials, seed=0)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for b in range(num_trials):
        collect_trials(policy, tasks.select(torch.tensor([b])), task_config, generator, generator)
    return num_trials * task_config.trial_len / (time.perf_counter() - started)


def rates(steps: int, seconds: list[float]) -> dict:
    """Steps/s of timed calls: the median and the range."""
    per_second = sorted(steps / s for s in seconds)
    return {"median": round(statistics.median(per_second)), "min": round(per_second[0]), "max": round(per_second[-1])}


def bench_row(
    model_type: str,
    size: str,
    setting: str,
    device_name: str,
    precision: str,
    steps: int,
    repeats: int,
    threads: int,
    naive_trials: int,
) -> dict:
    """Time one row (run in its own process: the peak memory is the row's)."""
    torch.set_num_threads(threads)
    device, task_config = torch.device(device_name), SETTINGS[setting]
    T = task_config.trial_len
    num_trials = max(NUM_MINIBATCHES, round(steps / T))
    config = TrainConfig(
        task=task_config,
        model=model_config(model_type, size),
        precision=precision,
        ppo=PPOConfig(num_trials=num_trials, minibatch_trials=num_trials // NUM_MINIBATCHES, update_epochs=UPDATE_EPOCHS),
    )
    torch.manual_seed(config.seed)
    policy = build_policy(task_config, config.model).to(device)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-4, eps=1e-5)
    tasks = seeded_tasks(task_config, num_trials, 0, device)
    env_gen, act_gen = torch.Generator(device=device).manual_seed(1), torch.Generator(device=device).manual_seed(2)
    minibatch_gen, normalizer = torch.Generator().manual_seed(3), ReturnNormalizer()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def sample():
        return collect_trials(policy, tasks, task_config, env_gen, act_gen)

    def update():
        ppo_update(policy, optimizer, sample(), normalizer, config.ppo, 0.01, minibatch_gen, precision)

    minibatches = [obs.contiguous() for obs in sample().obs.split(config.ppo.minibatch_trials, dim=1)]  # (T, b, O)

    def forward_backward_adam():
        for _ in range(UPDATE_EPOCHS):
            for obs in minibatches:
                with update_autocast(precision, device):
                    logits, values = policy(obs)
                (logits.float().sum() + values.float().sum()).backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)

    batch_steps = num_trials * T
    sampling_seconds = repeated(sample, repeats, device)
    training_seconds = repeated(update, repeats, device)
    bound_seconds = [statistics.median(sampling_seconds) + s for s in repeated(forward_backward_adam, repeats, device)]
    naive = naive_sampling_rate(policy.cpu(), task_config, naive_trials) if device.type == "cpu" and naive_trials > 0 else None
    peak = (
        torch.cuda.max_memory_allocated() if device.type == "cuda" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    sampling, training, bound = (rates(batch_steps, s) for s in (sampling_seconds, training_seconds, bound_seconds))
    return {
        "model": model_type,
        "size": size,
        "setting": setting,
        "trial_len": T,
        "device": device_name,
        "processor": processor_name(device),
        "precision": precision,
        "threads": torch.get_num_threads(),
        "wait_policy": " ".join(f"{name}={os.environ.get(name, '')}" for name in WAIT_POLICY),
        "trials_per_batch": num_trials,
        "steps_per_batch": batch_steps,
        "repeats": repeats,
        "sampling_steps_per_s": sampling,
        "training_steps_per_s": training,
        "bound_steps_per_s": bound,
        "ratio_to_bound": round(training["median"] / bound["median"], 2),
        "naive_sampling_steps_per_s": None if naive is None else round(naive),
        "batching_speedup": None if naive is None else round(sampling["median"] / naive, 1),
        "peak_memory_mib": round(peak / 2**20, 1),
    }


def processor_name(device: torch.device) -> str:
    """The chip a row ran on: the GPU's name, or the CPU's model name from /proc/cpuinfo with the
    bf16 matrix units it has (`ppo.cpu_bf16_units`), which decide what bf16 gains."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    fields = {}  # the first processor's "key : value" lines
    for line in cpuinfo.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    name = " ".join(fields.get("model name", platform.processor() or "unknown").split())
    units = cpu_bf16_units()
    return f"{name}, {' + '.join(units)}" if units else name


def rate_text(rate: dict) -> str:
    """'13,326 (12,901-13,410)': the median and the range of a figure."""
    return f"{rate['median']:,} ({rate['min']:,}-{rate['max']:,})"


def device_text(row: dict) -> str:
    """'cpu (Intel(R) Xeon(R) Processor, AMX + AVX512-BF16)'; rows written before the processor was
    recorded give the device alone."""
    return f"{row['device']} ({row['processor']})" if row.get("processor") else row["device"]


def bench_table(rows: list[dict]) -> str:
    """The benchmark's rows (results/bench/bench_<device>.json) as a Markdown table."""
    lines = [
        "| model | size | setting | T | device | precision | threads | sampling steps/s | "
        "training steps/s (5 PPO epochs) | bound steps/s | training / bound | naive loop steps/s | "
        "batching speed-up | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        naive = f"{r['naive_sampling_steps_per_s']:,}" if r["naive_sampling_steps_per_s"] else "–"
        lines.append(
            f"| {r['model']} | {r['size']} | {r['setting']} | {r['trial_len']} | {device_text(r)} | "
            f"{r['precision']} | {r['threads']} | {rate_text(r['sampling_steps_per_s'])} | "
            f"{rate_text(r['training_steps_per_s'])} | {rate_text(r['bound_steps_per_s'])} | "
            f"{r['ratio_to_bound']} | {naive} | {r['batching_speedup'] or '–'} | {r['peak_memory_mib']} |"
        )
    return "\n".join(lines)


def choices(text: str, allowed, what: str) -> list[str]:
    """A comma-separated list of names, each checked against `allowed` (one-line error otherwise)."""
    names = text.split(",")
    for name in names:
        if name not in allowed:
            sys.exit(f"error: unknown {what} {name!r}; allowed: {', '.join(allowed)}")
    return names


EPILOG = """\
Each row runs in a fresh process (so that its peak memory is its own) and times, on one batch of
about --steps environment steps in whole trials of different tasks:
- sampling: `collect_trials`, all trials stepped as one batch;
- training, end to end: one update, sampling plus 5 PPO epochs of 4 minibatches of whole trials;
- the bound: sampling plus the same network's forward, backward and Adam step alone on the same
  minibatches, 5 epochs, with nothing else (no GAE, loss terms, clipping or shuffling); the ratio
  training / bound in steps/s says how close to it the update runs;
- a naive loop that steps one task at a time through a batch-1 network, as the original project
  sampled (the ratio to batched sampling is what batching buys).
The `recipe` size is this workbook's GRU of 128 units and SNAIL at the depth of T = 100 (as the
campaign trains trials longer than 100 steps). Every figure is timed --repeats times after a
warm-up; the table gives the median and the min-max. Peak memory is the row process's resident set
(CPU) or allocated memory (CUDA).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rl2lib.bench",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=100_000,
        help="environment steps per batch, in whole trials (default 100000: 1000 trials at T = 100, 100 at T = 1000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed repeats per figure, after a warm-up; the table gives the median and the range (default 3)",
    )
    parser.add_argument("--models", default="gru,snail", help="comma-separated: gru, snail (default both)")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: paper, recipe (default both)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, of {', '.join(SETTINGS)}")
    parser.add_argument("--precisions", default=",".join(PRECISIONS), help="comma-separated: fp32, bf16 (default both)")
    parser.add_argument("--devices", default=None, help="comma-separated: cpu, cuda (default: cpu, and cuda when present)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per row (default 2: this machine's cores)")
    parser.add_argument("--naive_trials", type=int, default=4, help="trials of the batch-1 loop (0: skip it)")
    parser.add_argument("--out_dir", type=Path, default=None, help="folder of bench_<device>.json (default results/bench)")
    parser.add_argument(
        "--tag",
        default=None,
        help="write bench_<device>_<tag>.json instead, beside the others "
        "(the README's table shows the rows of every bench_*.json)",
    )
    return parser


def main(argv: list[str] | None = None) -> list[dict]:
    args = build_parser().parse_args(argv)
    models = choices(args.models, ("gru", "snail"), "model")
    sizes, settings = choices(args.sizes, SIZES, "size"), choices(args.settings, SETTINGS, "setting")
    precisions = choices(args.precisions, PRECISIONS, "precision")
    devices = (
        choices(args.devices, ("cpu", "cuda"), "device")
        if args.devices
        else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    )
    if args.steps < 1 or args.repeats < 1 or args.threads < 1:
        sys.exit("error: --steps, --repeats and --threads must be >= 1")
    print(
        f"{'model':6s} {'size':7s} {'setting':17s} {'device':6s} {'prec':5s} {'sampling/s':>11s} "
        f"{'training/s':>11s} {'bound/s':>9s} {'ratio':>6s} {'peak MiB':>9s}",
        flush=True,
    )
    rows = []
    spawn = get_context("spawn")
    for device in devices:
        device_rows = []
        for model_type in models:
            for size in sizes:
                for setting in settings:
                    for precision in precisions:
                        with ProcessPoolExecutor(1, mp_context=spawn) as pool:  # a fresh process per row
                            row = pool.submit(
                                bench_row,
                                model_type,
                                size,
                                setting,
                                device,
                                precision,
                                args.steps,
                                args.repeats,
                                args.threads,
                                args.naive_trials,
                            ).result()
                        device_rows.append(row)
                        print(
                            f"{row['model']:6s} {row['size']:7s} {row['setting']:17s} {row['device']:6s} "
                            f"{row['precision']:5s} {row['sampling_steps_per_s']['median']:>11,d} "
                            f"{row['training_steps_per_s']['median']:>11,d} {row['bound_steps_per_s']['median']:>9,d} "
                            f"{row['ratio_to_bound']:>6} {row['peak_memory_mib']:>9}",
                            flush=True,
                        )
        out = (args.out_dir or results_dir() / "bench") / f"bench_{device}{'_' + args.tag if args.tag else ''}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "command": "python -m rl2lib.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "targets_2_cpu_cores": {f"{m} {k}": v for (m, k), v in TARGETS.items()},
                    "rows": device_rows,
                },
                indent=2,
            )
            + "\n"
        )
        rows += device_rows
    print(
        "targets on 2 CPU cores: GRU sampling >= 200,000 steps/s; training >= 8,000 (GRU), >= 2,000 (SNAIL); "
        "training within 80% of the bound"
    )
    return rows


if __name__ == "__main__":
    main()
