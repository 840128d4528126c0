"""bf16 autocast in the PPO update (`--precision bf16`): what changes and what stays fp32."""

from pathlib import Path

import pytest
import torch

from rl2lib.cli import build_parser, config_from_args
from rl2lib.config import PPOConfig, TaskConfig, TrainConfig
from rl2lib.envs import seeded_tasks
from rl2lib.models.snail import TCBlock
from rl2lib.ppo import ReturnNormalizer, native_bf16, ppo_update, update_autocast
from rl2lib.rollout import collect_trials
from rl2lib.train import build_config_policy

MODELS = {
    "gru": ["--model_type", "gru"],
    "gru_relu": ["--model_type", "gru", "--nonlinearity", "relu"],  # stepped in Python, not `nn.GRU`
    "snail": ["--model_type", "snail"],
}
TASKS = {"bandit": TaskConfig(task="bandit", num_actions=5, num_traj=20), "mdp": TaskConfig(task="mdp", num_traj=3)}


def first_batch(model: str, task: str, num_trials: int = 64):
    """A fresh policy of the recipe's size and the trials it samples at the first update (fp32)."""
    config = config_from_args(
        build_parser().parse_args([*MODELS[model], "--task", task, "--num_traj", str(TASKS[task].num_traj)])
    )
    policy = build_config_policy(config)
    with torch.no_grad():  # a trained-looking policy: the heads' tiny init would make every logit ~0
        policy.policy_head.weight.mul_(100)
    tasks = seeded_tasks(config.task, num_trials, 0)
    batch = collect_trials(policy, tasks, config.task, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2))
    return policy, batch


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("task", ["bandit", "mdp"])
def test_bf16_forward_gives_the_same_actions_and_close_logits(model, task):
    """The whole-trial forward under autocast against fp32 on the first update's trials: logits within
    bf16's resolution (8 bits of mantissa, relative 2^-8 per rounding, compounded over the layers),
    and the Gumbel-max actions drawn with the same noise agree almost everywhere."""
    policy, batch = first_batch(model, task)
    with torch.no_grad():
        logits32, values32 = policy(batch.obs)  # (T, B, A), (T, B)
        with update_autocast("bf16", torch.device("cpu")):
            logits16, values16 = policy(batch.obs)
    assert logits16.dtype == torch.bfloat16 and logits32.dtype == torch.float32
    scale = logits32.abs().max().item()
    assert (logits16.float() - logits32).abs().max().item() <= 0.05 * scale
    assert (values16.float() - values32).abs().max().item() <= 0.05 * max(values32.abs().max().item(), 1.0)
    gumbels = -torch.log(-torch.log(torch.rand(logits32.shape, generator=torch.Generator().manual_seed(3))))
    same = ((logits32 + gumbels).argmax(-1) == (logits16.float() + gumbels).argmax(-1)).float().mean().item()
    assert same >= 0.98, same


@pytest.mark.parametrize("model", MODELS)
def test_a_bf16_update_keeps_fp32_state_and_moves_the_weights_as_fp32_does(model):
    """Parameters, gradients and Adam moments stay fp32; the update's step is the fp32 step up to bf16
    rounding (cosine similarity of the two parameter changes)."""
    steps = {}
    for precision in ("fp32", "bf16"):
        policy, batch = first_batch(model, "bandit")
        before = torch.cat([p.detach().flatten().clone() for p in policy.parameters()])
        optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3, eps=1e-5)
        cfg = PPOConfig(num_trials=64, minibatch_trials=64, update_epochs=1)
        ppo_update(policy, optimizer, batch, ReturnNormalizer(), cfg, 0.01, torch.Generator().manual_seed(4), precision)
        assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in policy.parameters())
        assert all(
            v.dtype == torch.float32 for state in optimizer.state.values() for v in state.values() if v.is_floating_point()
        )
        steps[precision] = torch.cat([p.detach().flatten() for p in policy.parameters()]) - before
    cosine = torch.nn.functional.cosine_similarity(steps["fp32"], steps["bf16"], dim=0).item()
    assert cosine >= 0.9, cosine


def test_precision_is_a_run_setting_that_reaches_the_config_and_the_default_is_fp32():
    def parse(*argv):
        return config_from_args(build_parser().parse_args(list(argv)))

    assert parse().precision == "fp32" and parse("--precision", "bf16").precision == "bf16"
    assert TrainConfig.from_dict({**parse().to_dict(), "precision": "bf16"}).precision == "bf16"
    saved = parse().to_dict()
    del saved["precision"]  # a config written before the field: fp32, as it was trained
    assert TrainConfig.from_dict(saved).precision == "fp32"


def test_the_bf16_dense_stack_does_not_read_stale_memory():
    """A bf16 matmul on AMX reads past the valid columns of a strided input and multiplies them by
    zeros (oneDNN issue #5717), so NaN bytes left in DenseStack's buffer by earlier tensors made
    training losses NaN at random on AMX machines. Freed memory is filled with NaN before each
    forward; the output must stay finite and bit-identical. (Only AMX machines could fail this.)"""
    torch.manual_seed(0)
    T, B, C = 100, 250, 13
    net = TCBlock(T, C, 16)  # 7 DenseBlocks: input widths 13, 29, ... none a multiple of 32
    x = torch.randn(T, B, C)
    with torch.no_grad(), update_autocast("bf16", torch.device("cpu")):
        reference = net(x)
        for _ in range(3):
            stale = torch.full((T * B * net.out_size,), float("nan"), dtype=torch.bfloat16)
            del stale  # its block goes back to the allocator, NaN bytes and all
            out = net(x)
            assert torch.isfinite(out).all() and torch.equal(out, reference)
    assert torch.isfinite(reference).all()


def test_native_bf16_is_read_off_the_cpus_flags():
    """bf16 counts as native on a CPU exactly when /proc/cpuinfo lists AMX-BF16 or AVX512-BF16 (read here by
    hand), as torch's probes in `ppo.native_bf16` find it; an AVX2-only CPU has neither."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo")
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), None)
    if flags is None:
        pytest.skip("/proc/cpuinfo has no x86 flags")
    assert native_bf16(torch.device("cpu")) == bool({"amx_bf16", "avx512_bf16"} & set(flags))
