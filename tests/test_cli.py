"""The command line's flags and configs are one mapping both ways: for every learner cell of every
profile, every campaign run and every committed run, config -> flags -> config is the identity."""

import pytest

from rl2lib import campaign_runs
from rl2lib.cli import build_parser, config_from_args, config_from_flags, config_to_flags, recipe_phase2
from rl2lib.config import ConfigError, PPOConfig, TrainConfig
from rl2lib.data import load_profiles
from rl2lib.runs import iter_runs

LEARNER_NOTEBOOKS = {
    "03_rl2_bandits.ipynb": ("gru", "bandit"),
    "04_snail_bandits.ipynb": ("snail", "bandit"),
    "05_rl2_mdps.ipynb": ("gru", "mdp"),
    "06_snail_mdps.ipynb": ("snail", "mdp"),
}


def profile_configs() -> list[tuple[str, TrainConfig]]:
    """The configs `experiment.run_cell` builds for each learner cell of each profile (both phases)."""
    configs = []
    for profile, cells in load_profiles().items():
        for cell in cells:
            if cell["notebook"] not in LEARNER_NOTEBOOKS:
                continue
            model, task = LEARNER_NOTEBOOKS[cell["notebook"]]
            p = cell["parameters"]
            flags = dict(
                model_type=model,
                task=task,
                num_actions=p.get("num_actions", 5),
                num_traj=p.get("num_traj", 10),
                metalearn_epochs=p.get("num_updates"),
                precision=p.get("precision"),
            )
            config = config_from_flags(**flags)
            configs.append((f"{profile}/{cell['name']}", config))
            phase2 = recipe_phase2(config.task, model)
            if task == "mdp" and p.get("phase2_updates", 600) > 0:
                configs.append(
                    (
                        f"{profile}/{cell['name']}/phase2",
                        config_from_flags(
                            **{
                                **flags,
                                **phase2,
                                "metalearn_epochs": p.get("phase2_updates", 600),
                                "init_from": f"results/runs/{cell['name']}/best.pt",
                            }
                        ),
                    )
                )
    return configs


def campaign_configs() -> list[tuple[str, TrainConfig]]:
    return [
        (run.name, config_from_args(build_parser().parse_args(run.train_argv())))
        for run in campaign_runs.CAMPAIGN
        if run.flags is not None
    ]


def committed_configs() -> list[tuple[str, TrainConfig]]:
    return [
        (run_dir.name, TrainConfig.from_dict(config))
        for run_dir, config in iter_runs()
        if config["model"]["model_type"] in ("gru", "snail")
    ]


@pytest.mark.parametrize(
    "name, config",
    profile_configs() + campaign_configs() + committed_configs(),
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_config_to_flags_and_back_is_the_identity(name, config):
    flags = config_to_flags(config)
    assert config_from_flags(**flags) == config, name


def test_there_are_configs_of_each_kind():
    assert len(profile_configs()) >= 30 and len(campaign_configs()) >= 20 and len(committed_configs()) >= 20


def test_a_config_no_flag_can_give_is_a_config_error():
    config = config_from_flags(task="bandit", num_traj=10)
    odd = TrainConfig(task=config.task, model=config.model, ppo=PPOConfig(norm_returns=False, ent_coef_final=0.5))
    with pytest.raises(ConfigError, match="no rl2-train flags give this config"):
        config_to_flags(odd)
