"""Models: one-step forward against the full-sequence forward, causality, SNAIL's block counts and
attention, DenseBlock against `F.conv1d` with explicit left padding, gradients through time."""

import math

import pytest
import torch
import torch.nn.functional as F

from rl2lib.models import GRUPolicy, SNAILPolicy
from rl2lib.models.gru import ACTIVATIONS, gru_sequence
from rl2lib.models.snail import AttentionBlock, DenseBlock, TCBlock, dense_stack, num_dense_blocks

OBS, ACTIONS = 17, 5  # the MDP input: 10 states + 5 actions + reward + flag


def make(kind: str, T: int, dtype=torch.float32, **kwargs):
    torch.manual_seed(0)
    model = (GRUPolicy if kind == "gru" else SNAILPolicy)(OBS, ACTIONS, T, **kwargs).to(dtype)
    # the policy head's gain 0.01 makes logits tiny; compare on unit-scale logits
    torch.nn.init.orthogonal_(model.policy_head.weight, gain=1.0)
    return model


def step_all(model, obs):
    """Step B trials through all T inputs from `initial_state`; returns stacked logits, values."""
    state = model.initial_state(obs.shape[1], obs.device)
    logits, values = [], []
    with torch.no_grad():
        for t in range(obs.shape[0]):
            lt, vt, state = model.step(obs[t], state)
            logits.append(lt)
            values.append(vt)
    return torch.stack(logits), torch.stack(values)  # (T, B, A), (T, B)


F32, F64 = (torch.float32, 1e-5), (torch.float64, 1e-12)
CASES = [  # kind, T, kwargs, (dtype, tolerance)
    ("gru", 20, {}, F32),
    ("gru", 20, {}, F64),
    ("gru", 20, {"separate_value": True, "layer_norm": True}, F32),
    ("gru", 20, {"nonlinearity": "relu"}, F64),
    ("gru", 20, {"nonlinearity": "relu", "separate_value": True}, F32),
    ("snail", 50, {}, F32),  # T not a power of 2
    ("snail", 50, {}, F64),
    ("snail", 100, {}, F32),
    ("snail", 64, {"value_embed": True}, F64),
    ("snail", 50, {"first_dilation": 1}, F64),  # dilation 1 reads the previous row of the cache
    ("snail", 1, {}, F32),
]


@pytest.mark.parametrize("kind,T,kwargs,precision", CASES)
def test_step_equals_forward(kind, T, kwargs, precision):
    dtype, tol = precision
    model = make(kind, T, dtype, **kwargs)
    obs = torch.randn(T, 8, OBS, dtype=dtype)  # (T, B, O)
    with torch.no_grad():
        logits, values = model(obs)
    step_logits, step_values = step_all(model, obs)
    assert logits.shape == (T, 8, ACTIONS) and values.shape == (T, 8)
    assert logits.abs().max() > 1e-2  # a comparison of non-trivial numbers
    torch.testing.assert_close(step_logits, logits, atol=tol, rtol=tol)
    torch.testing.assert_close(step_values, values, atol=tol, rtol=tol)


def test_snail_stepped_without_its_value_network_plays_the_same_logits_with_no_value_cache():
    model = make("snail", 30, torch.float64)
    obs = torch.randn(30, 4, OBS, dtype=torch.float64)  # (T, B, O)
    logits, _ = step_all(model, obs)
    state = model.initial_state(4, "cpu", values=False)
    assert state.value is None
    with torch.no_grad():
        for t in range(30):
            step_logits, step_values, state = model.step(obs[t], state)
            assert torch.equal(step_logits, logits[t]) and step_values.isnan().all()


def test_snail_step_past_trial_end_raises():
    model = make("snail", 3)
    state = model.initial_state(2, "cpu")
    for _ in range(3):
        _, _, state = model.step(torch.randn(2, OBS), state)
    with pytest.raises(RuntimeError):
        model.step(torch.randn(2, OBS), state)


@pytest.mark.parametrize("T", [50, 100])
def test_snail_is_causal(T):
    model = make("snail", T, torch.float64)
    obs = torch.randn(T, 4, OBS, dtype=torch.float64)
    logits, values = model(obs)
    for t in (0, 1, T // 3, T - 2):
        perturbed = obs.clone()
        perturbed[t + 1 :] += torch.randn_like(perturbed[t + 1 :])
        logits2, values2 = model(perturbed)
        torch.testing.assert_close(logits2[: t + 1], logits[: t + 1], atol=1e-12, rtol=0)
        torch.testing.assert_close(values2[: t + 1], values[: t + 1], atol=1e-12, rtol=0)
        assert (logits2[t + 1] - logits[t + 1]).abs().max() > 1e-6  # the future does matter


@pytest.mark.parametrize(
    "T,blocks", [(1, 0), (2, 1), (7, 3), (8, 3), (50, 6), (100, 7), (128, 7), (129, 8), (500, 9), (1000, 10)]
)
def test_dense_blocks_per_tcblock_is_ceil_log2(T, blocks):
    assert num_dense_blocks(T) == blocks == math.ceil(math.log2(T))
    tc = TCBlock(T, 4, 3)
    assert len(tc.blocks) == blocks
    assert [b.dilation for b in tc.blocks] == [2**i for i in range(1, blocks + 1)]
    assert tc.out_size == 4 + 3 * blocks
    model = SNAILPolicy(OBS, ACTIONS, T)
    assert len(model.policy_net.tc1.blocks) == len(model.value_net.tc2.blocks) == blocks
    assert [b.dilation for b in TCBlock(T, 4, 3, first_dilation=1).blocks] == [2**i for i in range(blocks)]


def test_paper_dilations_skip_odd_offsets_and_first_dilation_1_does_not():
    """Without attention, [2]'s even dilations make step t blind to step t - 1; dilation 1 is not."""
    for first_dilation, sees_previous in ((2, False), (1, True)):
        torch.manual_seed(0)
        tc = torch.nn.Sequential(TCBlock(16, 3, 4, first_dilation), TCBlock(16, 3 + 4 * 4, 4, first_dilation)).double()
        x = torch.randn(16, 2, 3, dtype=torch.float64)
        perturbed = x.clone()
        perturbed[8] += 1.0
        changed = (tc(perturbed)[9] - tc(x)[9]).abs().max() > 1e-9
        assert changed == sees_previous


@pytest.mark.parametrize("dilation", [2, 4, 16, 64])
def test_dense_block_matches_causal_conv1d(dilation):
    torch.manual_seed(0)
    block = DenseBlock(6, dilation, 4).double()
    x = torch.randn(30, 3, 6, dtype=torch.float64)  # (T, B, C)
    padded = F.pad(x.permute(1, 2, 0), (dilation, 0))  # (B, C, R + T) zeros before the trial
    pre = F.conv1d(padded, block.conv.weight, block.conv.bias, dilation=dilation).permute(2, 0, 1)  # (T, B, 2D)
    expected = torch.tanh(pre[..., :4]) * torch.sigmoid(pre[..., 4:])
    out = block(x)
    torch.testing.assert_close(out[..., :6], x)
    torch.testing.assert_close(out[..., 6:], expected)


def concatenated_dense_blocks(x, blocks):
    """DenseBlocks as [2] writes them, autograd through F.conv1d and torch.cat (the reference)."""
    for block in blocks:
        R, D = block.dilation, block.filters
        padded = F.pad(x.permute(1, 2, 0), (R, 0))  # (B, C, R + T) zeros before the trial
        pre = F.conv1d(padded, block.conv.weight, block.conv.bias, dilation=R).permute(2, 0, 1)  # (T, B, 2D)
        x = torch.cat([x, torch.tanh(pre[..., :D]) * torch.sigmoid(pre[..., D:])], dim=-1)
    return x


@pytest.mark.parametrize("T", [1, 5, 40])
def test_dense_stack_backward_equals_autograd_through_concatenation(T):
    """The hand-written backward of two TCBlocks in one buffer against autograd through conv1d + cat:
    the same outputs and the same gradients for the input and every weight and bias."""
    torch.manual_seed(0)
    tc1 = TCBlock(T, 3, 4, first_dilation=1).double()
    tc2 = TCBlock(T, tc1.out_size, 4).double()
    blocks = [*tc1.blocks, *tc2.blocks]
    params = [p for block in blocks for p in block.parameters()]
    x = torch.randn(T, 2, 3, dtype=torch.float64, requires_grad=True)  # (T, B, C)
    out, expected = dense_stack(x, blocks), concatenated_dense_blocks(x, blocks)
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
    grad_out = torch.randn_like(out)
    for ours, reference in zip(
        torch.autograd.grad(out, [x, *params], grad_out), torch.autograd.grad(expected, [x, *params], grad_out)
    ):
        torch.testing.assert_close(ours, reference, atol=1e-12, rtol=0)
    # finite differences along random directions (fast mode: one pass per direction, not one per input element)
    assert torch.autograd.gradcheck(lambda inputs: dense_stack(inputs, blocks), (x,), fast_mode=True)


def test_attention_weights_over_keys_and_causal():
    torch.manual_seed(0)
    block = AttentionBlock(10, 8, 6).double()
    x = torch.randn(12, 3, 10, dtype=torch.float64)  # (T, B, C)
    w = block.weights(x)  # (B, T queries, T keys)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 12, dtype=torch.float64))  # over keys
    assert (w.triu(1) == 0).all()  # key j > query i gets nothing
    assert (w[:, torch.ones(12, 12, dtype=torch.bool).tril()] > 0).all()  # every past key some
    torch.testing.assert_close(w[:, 0, 0], torch.ones(3, dtype=torch.float64))  # step 0 sees itself only
    # the fused kernel computes the same read
    torch.testing.assert_close(block(x), block(x, explicit=True))


def test_gru_initial_state_is_fresh_zeros():
    model = make("gru", 10, separate_value=True)
    state = model.initial_state(5, "cpu")
    assert state.shape == (2, 5, model.hidden_size) and (state == 0).all()
    obs = torch.randn(10, 5, OBS)
    step_all(model, obs)  # stepping a trial does not change what a new trial starts from
    assert (model.initial_state(5, "cpu") == 0).all()


@pytest.mark.parametrize("kind,T,kwargs", [("gru", 12, {}), ("gru", 12, {"separate_value": True}), ("snail", 12, {})])
def test_gradient_flows_through_time(kind, T, kwargs):
    model = make(kind, T, torch.float64, **kwargs)
    obs = torch.randn(T, 2, OBS, dtype=torch.float64, requires_grad=True)
    logits, values = model(obs)
    for out in (logits[-1].logsumexp(-1).sum(), values[-1].sum()):
        (grad,) = torch.autograd.grad(out, obs, retain_graph=True)
        assert grad[0].abs().max() > 0  # the last step's loss reaches the first input
        assert grad.isfinite().all()


def test_gru_sequence_equals_torch_gru():
    """The Python-stepped GRU (the path of the ReLU candidate) with tanh is PyTorch's `nn.GRU`."""
    torch.manual_seed(0)
    gru = torch.nn.GRU(OBS, 16).double()
    obs = torch.randn(30, 4, OBS, dtype=torch.float64)  # (T, B, O)
    torch.testing.assert_close(gru_sequence(gru, obs, torch.tanh), gru(obs)[0], atol=1e-12, rtol=1e-12)


def test_relu_candidate_is_unbounded():
    """tanh keeps every GRU output inside (-1, 1); the ReLU candidate outputs are >= 0 and can pass 1."""
    obs = 0.3 * torch.ones(40, 2, OBS)  # (T, B, O): every gate's input share is +-0.3 * 17 = +-5.1
    outputs = {}
    for nonlinearity in ("tanh", "relu"):
        gru = GRUPolicy(OBS, ACTIONS, 40, hidden_size=16, nonlinearity=nonlinearity).policy_gru
        with torch.no_grad():
            for weights in (gru.weight_hh_l0, gru.bias_hh_l0, gru.bias_ih_l0):
                weights.zero_()
            gru.weight_ih_l0.fill_(1.0)
            gru.weight_ih_l0[16:32] = -1.0  # update gate z = sigmoid(-5.1): mostly the candidate
        outputs[nonlinearity] = gru_sequence(gru, obs, ACTIVATIONS[nonlinearity])
    assert outputs["tanh"].abs().max() < 1
    assert outputs["relu"].min() >= 0 and outputs["relu"].max() > 2


def test_gru_step_keeps_gradient():
    model = make("gru", 5)
    obs = torch.randn(5, 2, OBS, requires_grad=True)
    state = model.initial_state(2, "cpu")
    for t in range(5):
        logits, values, state = model.step(obs[t], state)
    (grad,) = torch.autograd.grad(logits.sum(), obs)
    assert grad[0].abs().max() > 0
