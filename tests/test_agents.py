"""The one trial loop (`rl2lib.agents.play_trials`): the order it calls an agent in, and its record
against the environment stepped by hand."""

import pytest
import torch

from rl2lib.agents import BaselineAgent, play_trials, sample_actions
from rl2lib.config import TaskConfig
from rl2lib.envs import TrialEnv, seeded_tasks
from rl2lib.evaluate import make_baseline
from rl2lib.models.gru import GRUPolicy
from rl2lib.models.snail import SNAILPolicy
from rl2lib.rollout import collect_trials

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


@pytest.mark.parametrize("model, clock", [(GRUPolicy, False), (GRUPolicy, True), (SNAILPolicy, True)])
def test_a_policy_played_by_the_loop_matches_the_policy_stepped_by_hand(model, clock):
    """`collect_trials` (a PolicyAgent in the loop) against the policy and the environment stepped by
    hand with the same generators: the same inputs, actions, log-probabilities, values and rewards; a
    policy with a clock reads the RL^2 input with the fraction of the trial's steps left appended,
    counted here by hand; `forward` over the recorded inputs gives the values it played with."""
    torch.manual_seed(0)
    policy = model(MDP.obs_size + clock, MDP.num_actions, MDP.trial_len, hidden_size=16, clock=clock)
    with torch.no_grad():
        policy.policy_head.weight.mul_(100)  # far from uniform, so that the sampled actions differ
    tasks = seeded_tasks(MDP, 5, seed=4)
    batch = collect_trials(policy, tasks, MDP, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2))
    env, actions_generator = TrialEnv(tasks, MDP, torch.Generator().manual_seed(1)), torch.Generator().manual_seed(2)
    obs, state = env.reset(), policy.initial_state(5, tasks.device)
    with torch.no_grad():
        for t in range(MDP.trial_len):
            if clock:
                obs = torch.cat([obs, torch.full((5, 1), (MDP.trial_len - t) / MDP.trial_len)], 1)  # (B, O + 1)
            logits, values, state = policy.step(obs, state)
            actions = sample_actions(logits, actions_generator)
            log_probs = torch.log_softmax(logits, -1)[torch.arange(5), actions]
            assert torch.equal(batch.obs[t], obs) and torch.equal(batch.actions[t], actions)
            assert torch.equal(batch.values[t], values) and torch.equal(batch.log_probs[t], log_probs)
            result = env.step(actions)
            assert torch.equal(batch.rewards[t], result.rewards.float())
            obs = result.obs
        assert torch.allclose(policy(batch.obs)[1], batch.values, atol=1e-6)


def test_a_policy_of_another_input_width_is_refused():
    """A policy reads the RL^2 input of its task, plus the clock when it has one: any other width is an error,
    not a trial played on zero-filled or cut inputs."""
    tasks = seeded_tasks(MDP, 2, seed=0)
    for width, clock in ((MDP.obs_size + 1, False), (MDP.obs_size, True), (MDP.obs_size - 1, False)):
        policy = GRUPolicy(width, MDP.num_actions, MDP.trial_len, hidden_size=8, clock=clock)
        with pytest.raises(ValueError, match=f"the policy reads {width} inputs, the RL.2 input of this task has"):
            collect_trials(policy, tasks, MDP, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2))
