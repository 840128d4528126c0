"""The RL^2 trial protocol against a hand-made trial."""

import torch

from rl2lib.config import TaskConfig
from rl2lib.envs import BanditTasks, MDPTasks, TrialEnv, seeded_tasks


def test_bandit_protocol_inputs_step_by_step():
    """Hand-made 2-trial bandit: arm 1 always pays, arm 0 never; check every input vector."""
    cfg = TaskConfig(task="bandit", num_actions=3, num_traj=3)
    tasks = BanditTasks(torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    env = TrialEnv(tasks, cfg, torch.Generator().manual_seed(0))
    obs = env.reset()
    # layout: [state (1) | prev action (3) | prev reward | episode-done flag]
    assert torch.equal(obs[0], torch.tensor([1.0, 1, 0, 0, 0, 1]))  # action 0, reward 0, flag 1
    plays = [torch.tensor([1, 0]), torch.tensor([2, 1]), torch.tensor([1, 1])]
    expected = [
        [[1, 0, 1, 0, 1, 1], [1, 1, 0, 0, 0, 1]],
        [[1, 0, 0, 1, 0, 1], [1, 0, 1, 0, 1, 1]],
        [[1, 0, 1, 0, 1, 1], [1, 0, 1, 0, 1, 1]],
    ]
    for t, actions in enumerate(plays):
        result = env.step(actions)
        assert torch.equal(result.obs, torch.tensor(expected[t], dtype=torch.float32))
        assert result.episode_done  # every pull is an episode
        assert result.trial_done == (t == 2)


def test_mdp_episodes_restart_in_state_zero_and_flags():
    cfg = TaskConfig(task="mdp", num_actions=2, num_traj=2, traj_len=3, num_states=3)
    # deterministic chain: any action moves s -> s+1 (mod 3); reward mean = state index
    transitions = torch.zeros(1, 3, 2, 3)
    for s in range(3):
        transitions[0, s, :, (s + 1) % 3] = 1.0
    reward_means = torch.arange(3.0)[None, :, None].expand(1, 3, 2).clone()
    env = TrialEnv(MDPTasks(reward_means, transitions), cfg, torch.Generator().manual_seed(0))
    obs = env.reset()
    assert obs[0, :3].tolist() == [1, 0, 0] and obs[0, -1] == 1
    seen_states, flags = [], []
    for t in range(6):
        seen_states.append(env.states.item())
        result = env.step(torch.tensor([1]))
        flags.append((result.episode_done, result.trial_done))
        state_part = result.obs[0, :3].argmax().item()
        assert state_part == env.states.item()
        assert result.obs[0, 3:5].tolist() == [0, 1]  # previous action 1
        assert result.obs[0, -1].item() == float(result.episode_done)
    assert seen_states == [0, 1, 2, 0, 1, 2]
    assert flags == [(False, False), (False, False), (True, False), (False, False), (False, False), (True, True)]


def test_seeded_tasks_same_for_same_seed_and_differ_across_trials():
    cfg = TaskConfig(task="mdp")
    a, b = seeded_tasks(cfg, 50, seed=3), seeded_tasks(cfg, 50, seed=3)
    assert torch.equal(a.reward_means, b.reward_means)
    assert not torch.allclose(a.reward_means[0], a.reward_means[1])  # a new task per trial
