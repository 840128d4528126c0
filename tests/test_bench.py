"""The benchmark's rows (a small smoke run): the columns the README's table is made from."""

import json
from pathlib import Path

import pytest
import torch

from rl2lib import bench
from rl2lib.models import build_policy


def test_a_smoke_bench_writes_rows_with_the_bound_the_range_and_the_memory(tmp_path, capsys):
    rows = bench.main(
        [
            "--steps",
            "100",
            "--repeats",
            "2",
            "--models",
            "gru",
            "--sizes",
            "recipe",
            "--settings",
            "bandit_n100_k5",
            "--precisions",
            "fp32,bf16",
            "--devices",
            "cpu",
            "--threads",
            "1",
            "--naive_trials",
            "1",
            "--out_dir",
            str(tmp_path),
            "--tag",
            "smoke",
        ]
    )
    saved = json.loads((tmp_path / "bench_cpu_smoke.json").read_text())
    assert saved["rows"] == rows and saved["command"].startswith("python -m rl2lib.bench --steps 100")
    assert [(row["precision"], row["trial_len"]) for row in rows] == [("fp32", 100), ("bf16", 100)]
    for row in rows:
        for figure in ("sampling_steps_per_s", "training_steps_per_s", "bound_steps_per_s"):
            assert 0 < row[figure]["min"] <= row[figure]["median"] <= row[figure]["max"]
        # the bound is the update without its overheads, so end to end cannot be much faster than it
        assert 0 < row["ratio_to_bound"] == round(row["training_steps_per_s"]["median"] / row["bound_steps_per_s"]["median"], 2)
        # 100 steps round up to whole trials, one per minibatch at least: 4 trials of 100
        assert row["peak_memory_mib"] > 0 and row["steps_per_batch"] == 100 * 4
    table = bench.bench_table(rows)
    assert len(table.splitlines()) == 2 + len(rows) and "| gru | recipe | bandit_n100_k5 | 100 |" in table
    assert f"| cpu ({rows[0]['processor']}) |" in table
    assert "gru    recipe  bandit_n100_k5" in capsys.readouterr().out


@pytest.mark.parametrize(
    "size, dilations",
    [("paper", [2**i for i in range(1, 10)]), ("recipe", [2**i for i in range(7)])],  # ceil(log2 500) = 9, ceil(log2 100) = 7
)
def test_snail_rows_build_the_papers_tcblocks_or_the_recipes_depth(size, dilations):
    """On 500-pull trials: [2]'s TCBlock (dilations 2^1 .. 2^ceil(log2 T)) or the recipe's (from 1, at T = 100's depth)."""
    policy = build_policy(bench.SETTINGS["bandit_n500_k50"], bench.model_config("snail", size))
    for net in (policy.policy_net, policy.value_net):
        for tc in (net.tc1, net.tc2):
            assert [block.dilation for block in tc.blocks] == dilations


def test_an_unknown_setting_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--settings", "bandit_n7"])
    assert "unknown setting 'bandit_n7'; allowed: bandit_n100_k5" in str(exit_info.value)


def test_the_processor_names_the_cpu_and_its_bf16_units():
    """Checked against /proc/cpuinfo read here by hand: the first model name, and AMX listed exactly
    when the CPU has the amx_bf16 flag (bf16's gains depend on it)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), None)
    if model is None or flags is None:
        pytest.skip("/proc/cpuinfo has no x86 model name and flags")
    name = bench.processor_name(torch.device("cpu"))
    assert name.startswith(" ".join(model.split()))
    assert ("AMX" in name) == ("amx_bf16" in flags) and ("AVX512-BF16" in name) == ("avx512_bf16" in flags)
    assert bench.device_text({"device": "cpu"}) == "cpu"  # a row written before the processor was recorded
