"""Device placement: tasks, sampling, the update and the optimiser's state all live on the
configured device (CPU here; CUDA too where a GPU exists), and a run trained there evaluates."""

import dataclasses

import pytest
import torch

from rl2lib.cli import resolve_device
from rl2lib.config import ModelConfig, PPOConfig, TaskConfig, TrainConfig
from rl2lib.ppo import ReturnNormalizer, ppo_update
from rl2lib.rollout import collect_trials
from rl2lib.train import build_config_policy, draw_training_tasks, train, training_generators

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
TASKS = [TaskConfig(task="bandit", num_actions=5, num_traj=4), TaskConfig(task="mdp", num_actions=5, num_traj=2)]


def tensors_of(obj):
    """Every tensor held by a dataclass instance, by field name."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if torch.is_tensor(getattr(obj, f.name))}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("task", TASKS, ids=["bandit", "mdp"])
@pytest.mark.parametrize("model_type", ["gru", "snail"])
def test_every_tensor_is_on_the_configured_device(device, task, model_type):
    device = torch.device(device)
    config = TrainConfig(
        task=task,
        model=ModelConfig(model_type=model_type, hidden_size=8),
        ppo=PPOConfig(num_trials=6, minibatch_trials=3, update_epochs=1),
    )
    policy = build_config_policy(config).to(device)
    generators = training_generators(config, device)
    tasks = draw_training_tasks(config, None, generators["tasks"], device)
    batch = collect_trials(policy, tasks, task, generators["env"], generators["actions"])
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    ppo_update(policy, optimizer, batch, ReturnNormalizer(True), config.ppo, 0.01, generators["minibatches"])
    placed = {
        **{f"task.{k}": v for k, v in tensors_of(tasks).items()},
        **{f"batch.{k}": v for k, v in tensors_of(batch).items()},
        **{f"param.{k}": v for k, v in policy.named_parameters()},
        **{
            f"adam.{i}.{k}": v
            for i, state in enumerate(optimizer.state.values())
            for k, v in state.items()
            if torch.is_tensor(v) and v.dim() > 0
        },
    }
    assert len(placed) > 10
    wrong = {name: str(t.device) for name, t in placed.items() if t.device.type != device.type}
    assert not wrong, wrong


@pytest.mark.parametrize("device", DEVICES)
def test_a_run_trained_on_the_device_resumes_and_evaluates(device, tmp_path):
    from rl2lib.evaluate import evaluate_checkpoint

    config = TrainConfig(
        task=TASKS[0],
        model=ModelConfig(hidden_size=8),
        ppo=PPOConfig(num_trials=8, minibatch_trials=4, update_epochs=1),
        num_updates=2,
    )
    train(config, tmp_path, device=device, progress=False)
    result = evaluate_checkpoint(tmp_path / "checkpoint.pt", num_trials=20, device=device)
    assert 0 <= result.mean <= 4


def test_auto_device_is_cuda_exactly_when_present():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"


def test_a_checkpoint_of_another_device_resumes_with_reseeded_generators(tmp_path, capsys):
    """A run trained on CUDA goes on on a CPU (the GPU machine's runs come back to be resumed here):
    a device-side generator state of CUDA's size (16 bytes of Philox seed and offset) cannot be set on
    a CPU generator, so the trainer seeds it afresh, the same way every time."""
    config = TrainConfig(
        task=TASKS[0],
        model=ModelConfig(hidden_size=8),
        ppo=PPOConfig(num_trials=8, minibatch_trials=4, update_epochs=1),
        num_updates=2,
    )
    train(config, tmp_path / "first", progress=False)
    checkpoint = torch.load(tmp_path / "first" / "checkpoint.pt", weights_only=False)
    checkpoint["generators"].update(env=torch.zeros(16, dtype=torch.uint8), actions=torch.ones(16, dtype=torch.uint8))
    longer = dataclasses.replace(config, num_updates=3)
    returns = []
    for copy in ("a", "b"):
        (tmp_path / copy).mkdir()
        torch.save(checkpoint, tmp_path / copy / "checkpoint.pt")
        history = train(longer, tmp_path / copy, resume=True, progress=False)
        assert [row["update"] for row in history] == [1, 2, 3]
        returns.append(history[-1]["mean_trial_return"])
    assert returns[0] == returns[1]
    assert capsys.readouterr().out.count("generator was on another device") == 4
