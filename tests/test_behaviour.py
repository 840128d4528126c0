"""rl2lib.behaviour: the bandit exploration profile and the MDP episode profile against naive loops and
the closed forms of uniformly random play, and its command line's one-line errors."""

import math
import subprocess
import sys

import pytest
import torch

from rl2lib.behaviour import episode_profile, exploration_profile, main, play_agent


def naive_profile(actions, arm_probs):
    """The same entries, one trial and one pull at a time (k = 3 arms, n = 12 pulls: bounds 3, 9, 12)."""
    num_pulls, num_trials = actions.shape
    totals, regrets, segments, tried, best_share, switches = [], [], [0.0, 0.0, 0.0], {3: [], 6: [], 12: []}, [], []
    returns, orders = [], []
    for b in range(num_trials):
        probs = arm_probs[b].tolist()
        pulls = actions[:, b].tolist()
        totals.append(sum(probs[a] for a in pulls))
        regrets.append(sum(max(probs) - probs[a] for a in pulls))
        for t, a in enumerate(pulls):
            segments[0 if t < 3 else 1 if t < 9 else 2] += (max(probs) - probs[a]) / num_trials
        for pull in tried:
            tried[pull].append(len(set(pulls[:pull])))
        best = probs.index(max(probs))
        best_share.append(sum(a == best for a in pulls[-12:]) / 12)
        switches.append(sum(pulls[t] != pulls[t - 1] for t in range(1, num_pulls)))
        returns.append(sum(pulls[t] != pulls[t - 1] and pulls[t] in pulls[:t] for t in range(1, num_pulls)))
        firsts = []
        for a in pulls:
            if a not in firsts:
                firsts.append(a)
        orders.append(tuple(firsts[:3]))
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {
        "expected total": mean(totals),
        "regret": mean(regrets),
        "regret, pulls 1-3": segments[0],
        "regret, pulls 4-9": segments[1],
        "regret, pulls 10-12": segments[2],
        **{f"arms tried by pull {pull}": mean(values) for pull, values in tried.items()},
        "best arm, last 12 pulls": mean(best_share),
        "switches": mean(switches),
        "returns to an arm left": mean(returns),
        "commonest order of the first 3 arms": max(orders.count(order) for order in orders) / num_trials,
    }


def test_profile_equals_a_naive_loop():
    generator = torch.Generator().manual_seed(3)
    actions = torch.randint(0, 3, (12, 40), generator=generator)
    arm_probs = torch.rand(40, 3, generator=generator, dtype=torch.float64)
    profile = exploration_profile(actions, arm_probs)
    expected = naive_profile(actions, arm_probs)
    assert list(profile) == list(expected)
    for key, value in expected.items():
        assert profile[key] == pytest.approx(value, abs=1e-12), key


def test_always_pulling_the_best_arm_has_no_regret_and_one_arm():
    arm_probs = torch.rand(25, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    actions = arm_probs.argmax(1).expand(30, 25)  # (T, B)
    profile = exploration_profile(actions, arm_probs)
    assert profile["regret"] == 0 and profile["switches"] == 0 and profile["best arm, last 20 pulls"] == 1
    assert profile["returns to an arm left"] == 0
    assert profile["commonest order of the first 4 arms"] == max(arm_probs.argmax(1).bincount()).item() / 25
    assert profile["expected total"] == pytest.approx(30 * arm_probs.max(1).values.mean().item())
    assert all(value == 1 for key, value in profile.items() if key.startswith("arms tried"))


def test_random_pulls_match_their_closed_forms(capsys):
    """Uniformly random pulls of k = 5 arms, n = 10 (probabilities ~ U(0, 1)): distinct arms by pull t
    k (1 - (1 - 1/k)^t), regret per pull E[max of k uniforms] - 1/2 = k / (k + 1) - 1/2, switches
    (n - 1)(1 - 1/k), returns to an arm left sum_t (1 - (1 - 1/k)^t - 1/k), best-arm share 1/k; each within about
    4 standard errors of 4000 trials (per-trial standard deviations: arms tried 0.6, regret 1.0, switches 1.2, returns
    1.1)."""
    main(["random", "--num_actions", "5", "--num_traj", "10", "--num_trials", "4000", "--seed", "11"])
    out = capsys.readouterr().out
    assert out.startswith("bandit k = 5, n = 10: 4000 tasks of seed 11")
    rows = {name: values[0] for name, values in table_rows(out).items()}
    k, n = 5, 10
    expected = {
        "arms tried by pull 5": k * (1 - (1 - 1 / k) ** 5),
        "arms tried by pull 10": k * (1 - (1 - 1 / k) ** 10),
        "regret": n * (k / (k + 1) - 0.5),
        "switches": (n - 1) * (1 - 1 / k),
        "best arm, last 10 pulls": 1 / k,
        # pull t + 1 goes back when it lands in the t pulls' set of arms but not on the last pull's arm
        "returns to an arm left": sum(1 - (1 - 1 / k) ** t - 1 / k for t in range(1, n)),
    }
    four_se = {"arms tried by pull 5": 0.04, "arms tried by pull 10": 0.04, "regret": 0.07, "switches": 0.08}
    four_se["returns to an arm left"] = 0.08
    four_se["best arm, last 10 pulls"] = 4 * math.sqrt(1 / k * (1 - 1 / k) / (4000 * n))
    for key, value in expected.items():
        assert rows[key] == pytest.approx(value, abs=four_se[key]), key


def train_tiny(run_dir, task, **flags):
    """A one-update run of a tiny network: what a run folder hands the profile (its task and sizes)."""
    from rl2lib.cli import config_from_flags
    from rl2lib.train import train

    sizes = {"num_actions": 2, "num_traj": 3, "batch_size": 60, "mini_batch_size": 30, "hidden_size": 8, **flags}
    train(config_from_flags(task=task, **sizes, metalearn_epochs=1), run_dir, progress=False)


def table_rows(out):
    """The printed table's rows: name -> one number per agent column."""
    rows = (line.strip(" |").split(" | ") for line in out.splitlines()[4:])
    return {row[0]: [float(x) for x in row[1:]] for row in rows}


def test_a_run_folder_fixes_k_and_n_for_the_baselines(tmp_path, capsys):
    train_tiny(tmp_path / "run", "bandit")
    main(["random", str(tmp_path / "run"), "--num_trials", "50"])
    out = capsys.readouterr().out
    assert "bandit k = 2, n = 3: 50 tasks" in out and f"| | random | {tmp_path / 'run'} |" in out


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rl2lib.behaviour", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["nope"], "unknown agent 'nope'"),
        (["random", "--num_trials", "0"], "num_trials must be >= 1"),
        (["random", "--num_actions", "1"], "at least 2 arms"),
        (["missing.pt"], "does not exist"),
        (["random", "--task", "maze"], "unknown task 'maze'; allowed: bandit, mdp"),
        (["gittins", "--task", "mdp"], "unknown agent 'gittins' for task 'mdp'"),
        (["random", "--task", "mdp", "--num_traj", "0"], "num_traj (episodes per trial) must be >= 1"),
    ],
)
def test_bad_input_gives_one_line_error(args, fragment):
    result = run_cli(*args)
    assert result.returncode == 2 and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_mdp_checkpoint_played_as_a_bandit_is_one_line_error(tmp_path):
    train_tiny(tmp_path / "mdp", "mdp", num_traj=2, batch_size=40, mini_batch_size=20)
    result = run_cli(str(tmp_path / "mdp"), "--task", "bandit")
    assert result.returncode == 2 and "trained on task 'mdp', not 'bandit'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_episode_profile_equals_a_naive_loop():
    """n = 3 episodes of 4 steps: the profiled episodes are 1, 2 and the last, 3."""
    rewards = torch.randn(12, 7, generator=torch.Generator().manual_seed(5))  # (T, B)
    episode_means = [sum(sum(rewards[4 * e + t, b].item() for t in range(4)) for b in range(7)) / 7 for e in range(3)]
    expected = {"total": sum(episode_means), **{f"episode {e + 1}": episode_means[e] for e in range(3)}}
    profile = episode_profile(rewards, 3)
    assert list(profile) == list(expected)
    for key, value in expected.items():
        assert profile[key] == pytest.approx(value, abs=1e-6), key


def test_random_play_earns_ten_per_mdp_episode():
    """The MDP play path against a closed form: uniformly random actions earn E[mu] = 1 per step in
    any state ([1] Sec. 3.2: mu ~ N(1, 1)), so 10 per episode of 10 steps; each profiled episode within
    4 standard errors of 10 over 2000 tasks (how the steps group into episodes is the naive loop's test)."""
    _, _, _, rewards = play_agent("random", None, "mdp", {"num_traj": 5}, 2000, 11)
    per_episode = rewards.double().reshape(5, 10, -1).sum(1)  # (n, B)
    profile = episode_profile(rewards, 5)
    for episode in (1, 2, 5):
        se = per_episode[episode - 1].std().item() / math.sqrt(2000)
        assert profile[f"episode {episode}"] == pytest.approx(10, abs=4 * se), episode


def test_an_mdp_run_folder_fixes_the_whole_task_for_the_baselines(tmp_path, capsys):
    """A run trained on episodes of 5 steps makes the oracle play episodes of 5 steps: its episodes are
    alike (it knows the MDP), each between 5 and 15 (the 10-step episodes of 2 actions earn more)."""
    train_tiny(tmp_path / "mdp", "mdp", traj_len=5, num_traj=2, batch_size=40, mini_batch_size=20)
    main(["oracle", str(tmp_path / "mdp"), "--num_trials", "200"])
    out = capsys.readouterr().out
    assert "mdp (10 states, 2 actions, episodes of 5 steps), n = 2: 200 tasks" in out
    assert f"| | oracle | {tmp_path / 'mdp'} |" in out
    rows = table_rows(out)
    assert list(rows) == ["total", "episode 1", "episode 2"]
    assert rows["episode 1"][0] == pytest.approx(rows["episode 2"][0], rel=0.1)
    assert 5 < rows["episode 1"][0] < 15


def test_a_second_run_with_other_episodes_is_one_line_error(tmp_path):
    train_tiny(tmp_path / "five", "mdp", traj_len=5, num_traj=2, batch_size=40, mini_batch_size=20)
    train_tiny(tmp_path / "ten", "mdp", num_traj=2, batch_size=40, mini_batch_size=20)
    result = run_cli(str(tmp_path / "five"), str(tmp_path / "ten"), "--num_trials", "20")
    assert result.returncode == 2 and "plays traj_len 10, unlike the agent before it" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
