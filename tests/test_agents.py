"""The one trial loop (`rl2lib.agents.play_trials`): the order it calls an agent in, and its record
against the environment stepped by hand."""

import torch

from rl2lib.agents import BaselineAgent, play_trials
from rl2lib.config import TaskConfig
from rl2lib.envs import TrialEnv, seeded_tasks
from rl2lib.evaluate import make_baseline

MDP = TaskConfig(task="mdp", num_actions=5, num_traj=2, traj_len=3)


class SpyAgent:
    """Plays action (t mod A) and writes down every call with the env's step counter."""

    def __init__(self):
        self.calls = []

    def start(self, env, obs):
        self.calls.append(("start", env.step_in_trial, tuple(obs.shape)))

    def prepare(self, env):
        self.calls.append(("prepare", env.step_in_trial))

    def act(self, env):
        self.calls.append(("act", env.step_in_trial))
        return torch.full((env.num_trials,), env.step_in_trial % env.config.num_actions)

    def observe(self, states, actions, result):
        self.calls.append(("observe", int(actions[0]), result.episode_done))


def test_the_loop_calls_start_then_prepare_act_observe_once_per_step():
    agent = SpyAgent()
    tasks = seeded_tasks(MDP, 4, seed=0)
    record = play_trials(agent, TrialEnv(tasks, MDP, torch.Generator().manual_seed(1)))
    T = MDP.trial_len
    expected = [("start", 0, (4, MDP.obs_size))]
    for t in range(T):
        expected += [("prepare", t), ("act", t), ("observe", t % 5, (t + 1) % MDP.traj_len == 0)]
    assert agent.calls == expected
    assert record.episode_done.tolist() == [(t + 1) % MDP.traj_len == 0 for t in range(T)]
    assert record.trial_done.tolist() == [t == T - 1 for t in range(T)]


def test_a_baseline_played_by_the_loop_matches_the_environment_stepped_by_hand():
    """The same seeds, the baseline's calls written out by hand: same states, actions and rewards."""
    tasks = seeded_tasks(MDP, 6, seed=3)
    record = play_trials(
        BaselineAgent(make_baseline(MDP, "psrl"), torch.Generator().manual_seed(2)),
        TrialEnv(tasks, MDP, torch.Generator().manual_seed(1)),
    )
    baseline, generator = make_baseline(MDP, "psrl"), torch.Generator().manual_seed(2)
    env = TrialEnv(tasks, MDP, torch.Generator().manual_seed(1))
    env.reset()
    baseline.tasks = tasks
    baseline.reset(6, tasks.device, generator)
    for t in range(MDP.trial_len):
        if t % MDP.traj_len == 0:
            baseline.begin_episode()
        states = env.states.clone()
        actions = baseline.act(states, t % MDP.traj_len)
        result = env.step(actions)
        baseline.update(states, actions, result.rewards, result.next_states, result.episode_done)
        assert torch.equal(record.states[t], states) and torch.equal(record.actions[t], actions)
        assert torch.equal(record.rewards[t], result.rewards.double())
