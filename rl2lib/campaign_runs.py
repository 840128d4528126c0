"""The learner campaign's runs, in the order it trains them: each an `rl2-train` command (`Run`) or a committed run
that only needs its evaluations (`EVALUATED`), the recipe's settings with a fine-tune's over them when it starts from
a parent (`cell`), and beside each the measured reason it was added; then the training seeds of the seeded lines
(`with_seed`, `SEEDED_LINES`, `CURRICULUM`) and the runs set aside with why (`SHELVED`). `rl2lib.campaign` trains
them; nothing here runs anything. References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rl2lib.cli import flag_argv, recipe, recipe_phase2, resolve_device
from rl2lib.config import TaskConfig
from rl2lib.paths import default_run_name, phase_run_name, portable_path, results_dir, run_name_for
from rl2lib.ppo import native_bf16
from rl2lib.runs import CHECKPOINT_FILE, agent_path

FINE_TUNE = {"ent_coef": 0.0, "batch_size": 250_000, "mini_batch_size": 62_500, "validate_every": 5}
"""Settings of a run that starts from a trained parent (a later phase at the same n, or a horizon
warm start), with a third of the recipe's learning rate: the RL^2 authors' 250k steps per update
and no entropy bonus ([1] launch settings, ../shared/paper/README.md), so that the parent's policy
is refined rather than relearned."""


@dataclass(frozen=True)
class Run:
    """One campaign run: `results/runs/<name>` trained with `flags`, from `parent`'s best policy;
    `flags` None: a committed run that only needs its evaluations."""

    name: str
    flags: dict | None
    parent: str | None = None

    @property
    def run_dir(self) -> Path:
        return results_dir() / "runs" / self.name

    def train_argv(self) -> list[str]:
        """The `rl2-train` words of this run: one torch thread, resumed when it has a checkpoint."""
        flags = dict(self.flags)
        if self.parent is not None:
            flags["init_from"] = portable_path(agent_path(results_dir() / "runs" / self.parent))
        flags.update(run_dir=portable_path(self.run_dir), num_workers=1, resume=(self.run_dir / CHECKPOINT_FILE).exists())
        if flags.get("precision") == "bf16" and not native_bf16(resolve_device("auto")):
            flags["precision"] = "fp32"  # BF16: emulated bf16 is the slower
        return flag_argv(flags)


def cell(
    model: str, task: str, n: int, updates: int, k: int = 5, parent: str | None = None, name: str | None = None, **flags
) -> Run:
    """A campaign run of `model` on `task` (k arms or actions, n episodes per trial) for `updates`
    PPO updates: the recipe's settings, with `FINE_TUNE` (and a third of the learning rate) when it
    starts from `parent`, and `flags` over both. Named as its table cell unless `name` is given."""
    base = {"task": task, "num_actions": k, "num_traj": n, "model_type": model, "metalearn_epochs": updates}
    if parent is not None:
        learning_rate = recipe(TaskConfig(task=task, num_actions=k, num_traj=n), model)["learning_rate"] / 3
        base.update(FINE_TUNE, learning_rate=round(learning_rate, 10))
    return Run(name or default_run_name(model, task, k, n), {**base, **flags}, parent)


def previous_phase(line: str, phase: int) -> str:
    """The run that training phase `phase` (>= 2) of `line` starts from: `line` itself, then `<line>_phase<phase - 1>`."""
    return line if phase == 2 else phase_run_name(line, phase - 1)


def plateau_fine_tune(lever: str, **flags) -> Run:
    """A 100-update fine-tune of k = 10, n = 100's plateaued third phase from its best, with `flags`
    over the fine-tune settings: `gru_bandit_k10_n100_phase4_<lever>`."""
    return cell(
        "gru", "bandit", 100, 100, k=10, parent="gru_bandit_k10_n100_phase3", name=f"gru_bandit_k10_n100_phase4_{lever}", **flags
    )


def k50_plateau_fine_tune(name: str, parent: str | None = None, **flags) -> Run:
    """A 100-update fine-tune at the settings of GRU k = 50, n = 100's plateaued value-per-step third phase, named
    `name`, from `parent`'s best (default: that phase's), with `flags` over the fine-tune settings (`metalearn_epochs`
    over its budget)."""
    parent = parent or phase_run_name("gru_bandit_k50_n100_value_per_step", 3)
    return cell("gru", "bandit", 100, 100, k=50, parent=parent, name=name, value_per_step=True, **flags)


def bandit_n100_phase(model: str, line: str, k: int, phase: int, updates: int, **flags) -> Run:
    """Training phase `phase` (>= 2) of `model`'s bandit n = 100 value-per-step line `line` (k arms) from the previous
    phase's best, for `updates` updates at the fine-tune settings with `flags` over them."""
    parent, name = previous_phase(line, phase), phase_run_name(line, phase)
    return cell(model, "bandit", 100, updates, k=k, parent=parent, name=name, value_per_step=True, **flags)


def gru_plateau_phase(line: str, k: int, phase: int, **flags) -> Run:
    """A later phase of a GRU line (`bandit_n100_phase`): 100 updates, validated on 10,000 tasks (SE 0.13, where 1000
    tasks choose among the policies of a plateau by their noise), with `flags` over them."""
    return bandit_n100_phase("gru", line, k, phase, 100, **{"validate_trials": 10_000, **flags})


LONGER = {"gamma": 0.99, "tau": 0.9}
"""A horizon warm start discounts as the RL^2 authors did in every cell ([1] launch settings): with
gamma 1 the return-to-go grows with the steps left, which a GRU's value head must count to ~1000 to
predict; from the n = 100 parents, gamma-1 fine-tunes at n = 500 and 1000 lost 8 and 75 points of
validation return in 25 updates (results/runs/*_gamma1, *_ent1e-3). GAE lambda 0.9 as in the
long-bandit recipe and the MDP recipe's second phase."""

PER_STEP_LONGER = {**LONGER, "gamma": 1.0, "value_per_step": True}
"""A horizon warm start of a value-per-step line, or a later phase of one, keeps its n = 100 parents' gamma 1
rather than `LONGER`'s 0.99: the value head predicts the return per step left (`PPOConfig.value_per_step`), which
does not grow with the trial, and a discount of 0.99 over 500 or 1000 pulls also discounts the late rewards that pay
for exploring (SNAIL k = 5's warm start at gamma 0.99 without the value per step, `snail_bandit_k5_n500`, validated
at 399.0 after 5 updates and 396.7 after 100)."""

SNAIL_DEPTH = {"depth_len": 100, "checkpoint_every": 5}
"""SNAIL on trials longer than 100 steps keeps the TCBlock depth of its T = 100 parent (7 DenseBlocks,
receptive field 2 x 127 steps; the attention still reads the whole trial), so that its weights carry
over (`--depth_len`); [2] sizes each TCBlock for the trial, ceil(log2 T). Its updates take minutes,
hence a checkpoint every 5."""

SNAIL_GOES_ON = {
    "batch_size": 100_000,
    "mini_batch_size": 25_000,
    "learning_rate": 0.001,
    "ent_coef": 0.001,
    "validate_every": 10,
}
"""A SNAIL bandit line's second phase at the settings its first ended with (100k steps per update, the learning
rate 1e-3, the entropy bonus 0.001 decaying to 0.0001), not `FINE_TUNE`'s: at those, SNAIL k = 5, n = 100's
second phase stayed level."""

BF16 = {"precision": "bf16"}
"""SNAIL's campaign runs train their updates under bfloat16 autocast (`--precision bf16`): 2.2-2.3x
the fp32 update at T = 100 on this workbook's CPU (AVX512-BF16), and trained so, the SNAIL bandit
n = 10 cell matched its fp32 run of the same seed and budget (README, "Precision"). The GRU runs
stay fp32: the recipe's 128-unit GRU gains little from bf16 on long trials, and its MDP comparison
covers only part of a budget. On a machine without native bfloat16 (`ppo.native_bf16`: an AVX2-only
CPU, where emulated bf16 trained SNAIL at T = 100 at 119 steps/s against fp32's 1,107,
`results/bench/bench_cpu_snail_avx2.json`) they train, and resume, in fp32 (`Run.train_argv`)."""


def snail_plateau_phase(line: str, k: int, phase: int, **flags) -> Run:
    """A later phase of a SNAIL line (`bandit_n100_phase`): 150 updates at the settings a first phase ends with
    (`SNAIL_GOES_ON`), in bf16, with `flags` over them."""
    return bandit_n100_phase("snail", line, k, phase, 150, **{**SNAIL_GOES_ON, **BF16, **flags})


AUTHORS_SIZE = {"hidden_size": 256, "separate_value": True}
"""The RL^2 authors' GRU size ([1] launch settings, ../shared/paper/README.md): 256 units, and a
separate 256-unit value GRU instead of the recipe's value head on the policy's 128 units. About 7x
the recipe's time per step on this workbook's CPU; the campaign's `*_h256` lines train with it."""

AUTHORS_UPDATE = {"mini_batch_size": 12_500, "ppo_epochs": 5, "clip_param": 0.1, "target_kl": 0.01}
"""The RL^2 authors' PPO update ([1] launch settings, ../shared/paper/README.md) on 250k-step batches of
bandit n = 100 trials: 5 epochs over minibatches of 125 trials (their 128, rounded to 20 per batch), clip
0.1, and the update stopped at the minibatch whose KL passes 0.01 (theirs: a hard mean-KL limit with
backtracking): 100 gradient steps per batch where the fine-tune settings take 16."""

EVALUATED = (
    "gru_bandit_k5_n10",
    "gru_bandit_k10_n10",
    "gru_bandit_k50_n10",
    "snail_bandit_k5_n10",
    "snail_bandit_k10_n10",
    "snail_bandit_k50_n10",
    "gru_mdp_n10_phase2",
    "snail_mdp_n10",
)
"""Committed cells trained before the campaign: they only need their confirming evaluation."""

CAMPAIGN = tuple(Run(name, None) for name in EVALUATED) + (
    # horizon warm starts where the n = 100 parent already plays near the paper's number at the longer n
    cell("gru", "bandit", 500, 60, k=5, parent="gru_bandit_k5_n100", **LONGER),
    cell("gru", "bandit", 1000, 60, k=50, parent="gru_bandit_k50_n100", **LONGER),
    # second phases of the k = 50, n = 10 cells: 0.03 short of the bar on the 10,000 confirming tasks
    *(
        cell(
            model,
            "bandit",
            10,
            100,
            k=50,
            parent=f"{model}_bandit_k50_n10",
            name=f"{model}_bandit_k50_n10_phase2",
            validate_trials=10_000,
        )
        for model in ("gru", "snail")
    ),
    # second phases of the n = 100 cells, whose curves were still rising at 30M steps
    cell("gru", "bandit", 100, 200, k=10, parent="gru_bandit_k10_n100", name="gru_bandit_k10_n100_phase2"),
    cell("gru", "bandit", 100, 200, k=50, parent="gru_bandit_k50_n100", name="gru_bandit_k50_n100_phase2"),
    cell("gru", "bandit", 100, 200, k=5, parent="gru_bandit_k5_n100", name="gru_bandit_k5_n100_phase2"),
    # n = 500 from the refined n = 100 parents
    cell("gru", "bandit", 500, 200, k=10, parent="gru_bandit_k10_n100_phase2", **LONGER),
    cell("gru", "bandit", 500, 200, k=50, parent="gru_bandit_k50_n100_phase2", **LONGER),
    # later phases of the GRU cells whose validation return still rose at their end, cheapest to close first by
    # the README's "open cells" table (the slope over each run's last half, per 1e7 steps, and the wall time it
    # takes): k = 10, n = 100 (+0.32 +- 0.03, 1.04 short), k = 50, n = 10 (+0.0034 +- 0.0008, 0.017 short),
    # k = 50, n = 100 (+0.25 +- 0.06, 1.34 short), k = 10, n = 500 (+0.58 +- 0.2, 3.35 short), k = 50, n = 500
    # (+0.81 +- 0.2, 4.94 short, at 0.54 h per 1e7 steps)
    cell("gru", "bandit", 100, 200, k=10, parent="gru_bandit_k10_n100_phase2", name="gru_bandit_k10_n100_phase3"),
    cell(
        "gru",
        "bandit",
        10,
        200,
        k=50,
        parent="gru_bandit_k50_n10_phase2",
        name="gru_bandit_k50_n10_phase3",
        validate_trials=10_000,
    ),
    cell("gru", "bandit", 100, 200, k=50, parent="gru_bandit_k50_n100_phase2", name="gru_bandit_k50_n100_phase3"),
    cell("gru", "bandit", 500, 200, k=10, parent="gru_bandit_k10_n500", name="gru_bandit_k10_n500_phase2", **LONGER),
    cell("gru", "bandit", 500, 200, k=50, parent="gru_bandit_k50_n500", name="gru_bandit_k50_n500_phase2", **LONGER),
    # k = 10, n = 500 passed its bar on the evaluation tasks (428.83, bar 426.92) but not on the confirming ones (427.09,
    # bar 428.18), with its validation return still rising at its end (+0.42 +- 0.16 per 1e7 steps, best at update 200):
    # a third phase, validated on 2000 tasks (1000 at n = 500 leave an SE of about 1.9, so best.pt chased noise); then,
    # at 429.84 +- 1.85 (bar 426.95) and 427.68 +- 0.58 confirming (bar 428.18), its validation 430.1-431.2 for 85
    # updates and 432.6-432.7 at updates 90-95, a fourth phase at the same settings
    *(
        cell(
            "gru",
            "bandit",
            500,
            100,
            k=10,
            parent=phase_run_name("gru_bandit_k10_n500", phase - 1),
            name=phase_run_name("gru_bandit_k10_n500", phase),
            validate_trials=2000,
            **LONGER,
        )
        for phase in (3, 4)
    ),
    # the third phases at n = 100 (k = 10) and n = 10 (k = 50) stayed flat (validation slope within 2 SE of 0),
    # short of the bar: a recipe lever rather than more steps. The RL^2 authors' network size, 256 units with a
    # separate value GRU ([1] launch settings), on the recipe's first phase of k = 10, n = 100, to compare with
    # gru_bandit_k10_n100 (128 units, shared value head) step for step
    # and on k = 50, n = 10, whose policy plays 0.075 below the Bayes-optimal one on the confirming tasks (6.631
    # against 6.706), validated on 10,000 tasks as its later phases were
    cell("gru", "bandit", 10, 600, k=50, name="gru_bandit_k50_n10_h256", validate_trials=10_000, **AUTHORS_SIZE),
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_h256", **AUTHORS_SIZE),
    # k = 50, n = 10 reached that way (paths.CELL_LINES): the same lever on the other stalled GRU cell at n = 100
    cell("gru", "bandit", 100, 300, k=50, name="gru_bandit_k50_n100_h256", **AUTHORS_SIZE),
    # k = 10's first phase rose faster than the 128-unit run (validation 70.1 against 60.8 at 5M steps, 81.0 against
    # 80.0 at 20M) but ended at the same level: 81.0-81.8 over its last 100 updates (best 81.84, the 128-unit run's
    # 80.97), below the 128-unit line's later phases (82.4-82.8); its second phase at the fine-tune settings, as the
    # 128-unit line's second phase gained 1.5 there
    cell(
        "gru", "bandit", 100, 200, k=10, parent="gru_bandit_k10_n100_h256", name="gru_bandit_k10_n100_h256_phase2", **AUTHORS_SIZE
    ),
    # the authors' ReLU candidate activation ([1] launch settings) at the recipe's 128 units, on the recipe's first
    # phase of k = 10, n = 100, to compare with gru_bandit_k10_n100 step for step: a tanh state saturates at 1, a ReLU
    # one can add up the pulls and wins of a long trial; then its second phase at the fine-tune settings, as the
    # tanh line's
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_relu", nonlinearity="relu"),
    cell(
        "gru",
        "bandit",
        100,
        200,
        k=10,
        parent="gru_bandit_k10_n100_relu",
        name="gru_bandit_k10_n100_relu_phase2",
        nonlinearity="relu",
    ),
    # and on MDP n = 10 from scratch with gru_mdp_n10's command (5000 updates of 40k steps), to compare step for step:
    # k = 10, n = 100 with it validated 76.6 at 10M steps (the tanh run 73.5), and the MDP cells stall below the paper
    cell("gru", "mdp", 10, 5000, name="gru_mdp_n10_relu", nonlinearity="relu"),
    # k = 10, n = 100's third phase held its validation return at 82.55-82.73 for 100 updates at the fine-tune
    # settings (16 gradient steps per 250k steps at a constant learning rate): two ways to refine a plateaued
    # policy from its best, 100 updates each, against that plateau on the same validation tasks. The learning rate
    # decayed linearly to 0 (`--anneal_lr`), and the RL^2 authors' update ([1] launch settings): 5 epochs over
    # minibatches of about 128 trials (125: 20 per update, 100 gradient steps), clip 0.1, and the update cut when
    # its KL passes 0.01 (their hard limit, with backtracking)
    plateau_fine_tune("anneal", anneal_lr=True),
    plateau_fine_tune("authors", **AUTHORS_UPDATE),
    # Played beside Gittins on 2000 tasks, that plateaued policy tries 5.1 of the 10 arms in a trial (Gittins 8.0), and
    # its phases learned to try more (phase 1: 4.7) as they gained: it under-explores. With GAE lambda 0.9 an untried
    # arm's pull is credited mostly through the value function within ~10 steps, where the pull costs, while its gain
    # comes over the rest of the trial; lambda 1 credits it with the whole return-to-go (the recipe's 0.3 -> 0.9 gained
    # on bandit n = 100 and MDP n = 10's second phase): the fine-tune settings with GAE lambda 1
    plateau_fine_tune("tau1", tau=1.0),
    # and the recipe's first phase with GAE lambda 1, to compare with gru_bandit_k10_n100 (lambda 0.9) step for step:
    # a fine-tune of a nearly deterministic policy (entropy 0.03 nats) rarely samples the pulls it would credit
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_tau1", tau=1.0),
    # GAE lambda 1 stalled at random play (validation 50.1 over 5M steps; lambda 0.9: 60.8): the credit is too noisy.
    # A value head that knows the time left instead (`--value_per_step`: it predicts the return per step left, which
    # the update multiplies back; the RL^2 input has no clock, and the return-to-go of a bandit trial is mostly the
    # steps left times a reward rate), on the recipe's first phase, to compare with gru_bandit_k10_n100 step for step,
    # and on the fine-tune of the plateaued third phase
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_value_per_step", value_per_step=True),
    plateau_fine_tune("value_per_step", value_per_step=True),
    # the first phase with it validated ahead of the tanh run at every step (69.5 against 65.1 at 6M steps, 81.3
    # against 80.0 at 20M), as fast as the ReLU and 256-unit runs: its second phase at the fine-tune settings, and the
    # same first phase on k = 50, n = 100 (the 128-unit run tried 6.0 of 50 arms, Gittins 9.9), to compare step for step
    cell("gru", "bandit", 100, 300, k=50, name="gru_bandit_k50_n100_value_per_step", value_per_step=True),
    # the second phases of both at the fine-tune settings; k = 50's, though its first phase ended level with the
    # recipe's, as a better parent for k = 50, n = 500, which k = 10's second phase was for its n = 500 cell (below)
    *(
        cell(
            "gru",
            "bandit",
            100,
            200,
            k=k,
            parent=f"gru_bandit_k{k}_n100_value_per_step",
            name=f"gru_bandit_k{k}_n100_value_per_step_phase2",
            value_per_step=True,
        )
        for k in (10, 50)
    ),
    # k = 50's second phase validated 82.93 at its end, still rising (+0.19 +- 0.03 per 1e7 steps over its last half),
    # and played 82.61 on the evaluation tasks (bar 84.05): a third phase at the same settings, from its best
    cell(
        "gru",
        "bandit",
        100,
        200,
        k=50,
        parent=phase_run_name("gru_bandit_k50_n100_value_per_step"),
        name=phase_run_name("gru_bandit_k50_n100_value_per_step", 3),
        value_per_step=True,
    ),
    # k = 10's second phase held its validation return at 82.8-83.2 over its last 100 updates, and its best.pt, the best
    # of 40 validations on 1000 tasks (SE 0.4), confirmed 82.24 (bar 82.67): on a plateau, 1000 tasks choose among
    # policies by their noise. A third phase at the same settings whose validations use 10,000 tasks (SE 0.13), as
    # k = 50, n = 10's did when it reached its cell; then, at 82.99 +- 0.39 (bar 82.30) and 82.33 +- 0.13 confirming (bar
    # 82.67), its validation still rising at +0.04 +- 0.02 per 1e7 steps (82.48 at its start, 82.63 at update 95), a
    # fourth phase at the same settings; at 82.97 +- 0.39 and 82.52 +- 0.13 confirming, rising at +0.05 +- 0.02 (82.58 at
    # update 10, 82.69 at 100), a fifth; the fifth held level (82.66-82.77; 82.83 +- 0.40, confirming 82.40 +- 0.13): a
    # sixth that settles the policy, twice the trials per update (500k steps) and half the learning rate, annealed to 0
    # over its 100 updates; it held at 82.76-82.83 (83.03 +- 0.39, confirming 82.48 +- 0.13): the line's plateau
    *(
        gru_plateau_phase("gru_bandit_k10_n100_value_per_step", 10, phase, **settings)
        for phase, settings in (
            *((phase, {}) for phase in (3, 4, 5)),
            (
                6,
                {
                    "validate_every": 10,
                    "batch_size": 500_000,
                    "mini_batch_size": 125_000,
                    "learning_rate": 5e-4,
                    "anneal_lr": True,
                },
            ),
        )
    ),
    # k = 50, n = 500's warm start from the recipe line (gru_bandit_k50_n500_phase2) validated downwards; played at n = 500
    # with no retraining on 1000 tasks of seed 4242, k = 50, n = 100's value-per-step second phase scored 429.7 +- 1.8,
    # level with it there (429.6): the horizon warm start that reached k = 10, n = 500, from this line's third phase
    cell(
        "gru",
        "bandit",
        500,
        200,
        k=50,
        parent=phase_run_name("gru_bandit_k50_n100_value_per_step", 3),
        name="gru_bandit_k50_n500_value_per_step",
        validate_trials=2000,
        value_per_step=True,
        **LONGER,
    ),
    # it validated at 432.3-436.6 (best at update 65, then 434.8-436.4), 437.05 on the evaluation tasks (bar 434.02)
    # and 434.41 confirming (bar 434.51): a second phase at its settings, from its best, as k = 10, n = 500's recipe
    # line had
    cell(
        "gru",
        "bandit",
        500,
        100,
        k=50,
        parent="gru_bandit_k50_n500_value_per_step",
        name=phase_run_name("gru_bandit_k50_n500_value_per_step"),
        validate_trials=2000,
        value_per_step=True,
        **LONGER,
    ),
    # the two levers that each validated above the tanh recipe's first phase at 30M steps, the GRU's ReLU candidate (81.8
    # against 80.9) and value per step (82.8), together on the same first phase, to compare step for step
    cell(
        "gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_relu_value_per_step", nonlinearity="relu", value_per_step=True
    ),
    # its second phase, played at n = 500 with no retraining, scored 428.1 +- 1.9 on 1000 tasks of seed 4242 (neither
    # the evaluation's nor the confirmation's), where gru_bandit_k10_n500_phase4 scored 426.8 +- 1.9 on the same tasks: a
    # horizon warm start from it, with value per step (its units, a reward rate, carry over to n = 500 and gamma 0.99)
    cell(
        "gru",
        "bandit",
        500,
        200,
        k=10,
        parent="gru_bandit_k10_n100_value_per_step_phase2",
        name="gru_bandit_k10_n500_value_per_step",
        validate_trials=2000,
        value_per_step=True,
        **LONGER,
    ),
    # and MDP n = 10's first phase with it, gru_mdp_n10's command otherwise, to compare step for step (a trial of 100
    # steps whose return-to-go is also mostly the steps left times a reward rate)
    cell("gru", "mdp", 10, 5000, name="gru_mdp_n10_value_per_step", value_per_step=True),
    # and MDP n = 10's GRU line, whose second phase (GAE lambda 0.9, up from the first phase's 0.3) gained and then rose
    # at +0.12 per 1e7 steps: a third phase at its settings with lambda 1
    cell(
        "gru",
        "mdp",
        10,
        300,
        parent="gru_mdp_n10_phase2",
        name="gru_mdp_n10_phase3_tau1",
        **{**recipe_phase2(TaskConfig(task="mdp", num_traj=10), "gru"), "metalearn_epochs": 300, "tau": 1.0},
    ),
    # lambda 1 stayed flat, and value per step from scratch drew level with gru_mdp_n10 by 30M steps (training return
    # 124.4 against 123.5, 126.9 against 128.6 at 45M): what the line lacks is steps. Its second phase rose at
    # +0.12 +- 0.05 per 1e7 steps over its last half (the README's open cells): a third phase at its settings, from its
    # best, with the entropy coefficient where the second phase's anneal ended (1e-4, annealed to 1e-5)
    cell(
        "gru",
        "mdp",
        10,
        3000,
        parent="gru_mdp_n10_phase2",
        name="gru_mdp_n10_phase3",
        **{**recipe_phase2(TaskConfig(task="mdp", num_traj=10), "gru"), "metalearn_epochs": 3000, "ent_coef": 0.0001},
    ),
    # MDP n = 25's warm start (gru_mdp_n25, gamma 0.99 as the long trials' `LONGER`) validated flat at 404-408 for 170
    # updates, below PSRL's 408.8: gamma 0.99 discounts a reward 10 episodes (100 steps) ahead by 0.37, so an early
    # exploration earns little credit for the later episodes it pays in. With value per step, gamma 1 no longer asks the
    # value head to count 250 steps: the same warm start with both, to compare with gru_mdp_n25 step for step
    cell(
        "gru",
        "mdp",
        25,
        300,
        parent="gru_mdp_n10_phase2",
        name="gru_mdp_n25_value_per_step",
        gamma=1.0,
        tau=0.9,
        value_per_step=True,
    ),
    # Both n = 25 warm starts barely move: over updates 20-100 gru_mdp_n25's mean KL per update (metrics.csv's
    # approx_kl) stays at 0.0005-0.0015 and the policy's entropy at 0.10-0.13, so the n = 10 policy's exploration, too
    # short for 25 episodes, is seldom varied. The same warm start as gru_mdp_n25 with the recipe's first-phase entropy
    # bonus (0.01, decaying to a tenth), to compare with it step for step. It validated level with gru_mdp_n25
    # (403.6-406.6 against 403.1-407.9 over the same 100 updates), its entropy still at 0.10-0.13
    cell("gru", "mdp", 25, 100, parent="gru_mdp_n10_phase2", name="gru_mdp_n25_entropy", **LONGER, ent_coef=0.01),
    # Every MDP learner gains little after its tenth episode (gru_mdp_n25: 0.28 from episode 10 to 25, BEB 1.74), and
    # gamma 0.99 halves a reward's credit every 69 steps (7 episodes): what an exploration in episode 10 earns in
    # episodes 20-25 counts for a third or less. Gamma 1 came with value per step and lost 5 (above); the same warm
    # start as gru_mdp_n25 with gamma 0.996, whose horizon 1 / (1 - gamma) is the trial's 250 steps, to compare with
    # it step for step
    cell("gru", "mdp", 25, 100, parent="gru_mdp_n10_phase2", name="gru_mdp_n25_gamma0.996", **{**LONGER, "gamma": 0.996}),
    # It validated level with gru_mdp_n25 (403.4-405.8 against 404.0-407.9 over the same 100 updates; 403.70 +- 2.10,
    # confirming 401.79 +- 0.65): after 5 updates both played the validation tasks within 0.001 of each other, and
    # their mean KL per update stayed at 0.0005-0.004: the fine-tune's steps barely move the n = 10 policy. The same
    # warm start at the recipe's first-phase learning rate, 3e-3, three times a warm start's (`cell`), to compare step for step
    cell("gru", "mdp", 25, 100, parent="gru_mdp_n10_phase2", name="gru_mdp_n25_lr3e-3", **LONGER, learning_rate=0.003),
    # It validated 4.7 above gru_mdp_n25 at its first validation and flat after it (406.1-408.6 against 403.1-407.9):
    # 406.84 +- 2.04, confirming 404.42 +- 0.64, about 1 above gru_mdp_n25's best where the bar is 34 away
    # The bandit policies under-explore (k = 10, n = 100: 5.55 of 10 arms tried, Gittins 6.69), and how much a pull
    # is worth exploring depends on the pulls left, which value per step gave the value head but not the policy: the
    # policy with a clock too (`--clock`, the fraction of the trial's steps left), on the value-per-step first phase
    # of k = 10, n = 100, to compare with gru_bandit_k10_n100_value_per_step step for step
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_clock", value_per_step=True, clock=True),
    # the clock stayed level with it (validation 82.27 against 82.82 at 30M steps; expected total against Gittins 82.03
    # and 82.05, arms tried 5.45 and 5.31), and the line's third phase, validated on 10,000 tasks, held 82.50-82.63:
    # LayerNorm on the GRU's output (`--layer_norm`, the best public PyTorch reproduction's GRU, untried on the
    # bandits), on the same value-per-step first phase, to compare step for step
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_layer_norm", value_per_step=True, layer_norm=True),
    # every n = 100 line plays nearly deterministically by its end (entropy 0.015-0.03 nats per pull), and its policy's
    # entropy fell early: value per step's first phase of k = 10, n = 100 at 1.41 after 2.5M steps, 0.27 after 10M,
    # 0.04 after 27M, with the recipe's bonus of 0.01 decaying to 0.001; its later phases (no bonus) barely moved it.
    # The same first phase with three times the bonus (0.03, decaying to 0.003), to compare step for step: does a
    # policy that stays random for longer find a plan that tries more arms?
    cell("gru", "bandit", 100, 300, k=10, name="gru_bandit_k10_n100_entropy", value_per_step=True, ent_coef=0.03),
    # It did: at 30M steps its entropy was 0.08 nats per pull (0.04), it validated at 82.67-83.13 over its last 50
    # updates (82.23-82.91), and its best scored 82.41 +- 0.40 and confirmed 82.44 +- 0.13 (82.43 and 81.83), where
    # the line's sixth phase, after 205M steps, confirmed 82.48; it tried 5.73 arms by pull 100 (5.31; Gittins 6.69).
    # A second phase as the value-per-step line's third to fifth (validated on 10,000 tasks), the bonus going on
    # from where the first phase's ended (0.003, decaying to 0.0003); and the same first phase on k = 50, n = 100
    # The second phase validated at 82.77-83.30 on 10,000 tasks, still rising at its end (the value-per-step line's
    # phases 3-6 held 82.48-82.83 on the same tasks): 83.01 +- 0.38 (bar 82.37), confirming 83.00 +- 0.12 (bar
    # 82.67), the cell reached (`paths.CELL_LINES`); a third at the same settings, for a margin: it validated at
    # 83.26-83.41, 83.21 +- 0.37, confirming 83.15 +- 0.12
    *(gru_plateau_phase("gru_bandit_k10_n100_entropy", 10, phase, ent_coef=0.003) for phase in (2, 3)),
    cell("gru", "bandit", 100, 300, k=50, name="gru_bandit_k50_n100_entropy", value_per_step=True, ent_coef=0.03),
    # On k = 50 the bonus slowed the first phase (validation 78.70 at 30M steps against value per step's 80.94; 78.60
    # +- 0.45, confirming 78.54 +- 0.14, against 81.00 and 80.25), its entropy still 0.19 nats per pull and its
    # validation rising by 0.7 every 10 updates at its end: a second phase as k = 10's
    gru_plateau_phase("gru_bandit_k50_n100_entropy", 50, 2, ent_coef=0.003),
    # It validated at 79.20-81.16 on 10,000 tasks, 1.2-1.4 below value per step's second phase at every 2.5M steps from
    # 32.5M to 55M (no closing of the gap): 80.62 +- 0.42, confirming 81.04 +- 0.13 (value per step's second phase:
    # 82.61 and 82.22). On k = 50 the bonus does not pay; the cell stays with value per step's line, and no third phase
    # A bonus barely moves a policy that has already become nearly deterministic (k = 50, n = 500's second phase with
    # one, below). The line's plateau instead from a softened start: phase 6's best policy at temperature 2 (its logits
    # halved), trained as the fifth phase was (100 updates of 250k steps, validated on 10,000 tasks: 82.66-82.77),
    # against phase 6's 82.76-82.83
    cell(
        "gru",
        "bandit",
        100,
        100,
        k=10,
        parent=phase_run_name("gru_bandit_k10_n100_value_per_step", 6),
        name="gru_bandit_k10_n100_value_per_step_temperature",
        value_per_step=True,
        validate_trials=10_000,
        init_temperature=2.0,
    ),
    # It fell back to its old policy: its entropy from 0.08 to 0.02 nats per pull within 100 updates, its validation
    # from 82.55 back to 82.73-82.75; 82.97 +- 0.40, confirming 82.40 +- 0.13 (phase 6: 83.03 and 82.48). Softening a
    # policy late does not undo where it converged; the bonus from the start (above) did better
    # training seeds 1 and 2 of the bandit n = 10 cells that have one phase, with seed 0's recipe and budget: a
    # cell's number is the mean over its seeds and the best seed (by validation) stands beside it ([1]'s authors
    # trained five seeds per cell and kept the best)
    *(
        cell(model, "bandit", 10, updates, k=k, seed=seed, name=run_name_for(default_run_name(model, "bandit", k, 10), seed))
        for seed in (1, 2)
        for model, updates in (("gru", 600), ("snail", 300))
        for k in (5, 10)
    ),
    # and of k = 50's GRU, whose cell is the authors' size in one phase (`paths.CELL_LINES`)
    *(
        cell(
            "gru",
            "bandit",
            10,
            600,
            k=50,
            seed=seed,
            name=run_name_for("gru_bandit_k50_n10_h256", seed),
            validate_trials=10_000,
            **AUTHORS_SIZE,
        )
        for seed in (1, 2)
    ),
    # SNAIL bandits n = 100 from scratch (the recipe), then n = 500 and 1000 from them; k = 5 ended at 77.05
    # (bar 77.55), validating at 77.4-78.1 from update 180: a second phase, as the GRU's n = 100 cells had
    cell("snail", "bandit", 100, 300, k=5, **BF16),
    cell("snail", "bandit", 100, 100, k=5, parent="snail_bandit_k5_n100", name="snail_bandit_k5_n100_phase2", **BF16),
    *(cell("snail", "bandit", 100, 300, k=k, **BF16) for k in (10, 50)),
    # the value head per step left, which took the GRU's k = 10, n = 100 first phase from 80.93 to 82.82 at 30M steps,
    # on SNAIL's recipe from scratch, k = 10 to compare with snail_bandit_k10_n100 step for step, k = 50 (its recipe
    # run stopped at 40 of 300 updates), and k = 5 (after k = 10's lifted its confirmation from 81.40 to 81.64)
    *(
        cell("snail", "bandit", 100, 300, k=k, name=f"snail_bandit_k{k}_n100_value_per_step", value_per_step=True, **BF16)
        for k in (10, 50, 5)
    ),
    # SNAIL's value-per-step first phases with the entropy bonus that lifted the GRU's (gru_bandit_k10_n100_entropy: 0.03,
    # decaying to 0.003; the recipe has 0.01), to compare with them step for step
    *(
        cell("snail", "bandit", 100, 300, k=k, name=f"snail_bandit_k{k}_n100_entropy", value_per_step=True, ent_coef=0.03, **BF16)
        for k in (5, 10, 50)
    ),
    # k = 5's validated 0.1-0.5 above its value-per-step line's first phase from 12M steps on (78.70 against 78.38 at
    # 30M, best 78.93 against 78.57), its entropy 0.047 nats per pull at its end (0.034): 77.27 +- 0.53, confirming
    # 77.93 +- 0.17, where that line's first phase confirmed 77.72 and its fourth, after 75M steps, 77.93 (bar 78.31).
    # Their second phases as the value-per-step lines', the bonus going on from where the first phase's ended (0.003,
    # decaying to 0.0003), validated on 10,000 tasks as the GRU's plateau phases (SE 0.17 against 1000 tasks' 0.55,
    # for 12% more time per update)
    *(snail_plateau_phase(f"snail_bandit_k{k}_n100_entropy", k, 2, ent_coef=0.003, validate_trials=10_000) for k in (5, 10, 50)),
    # k = 5's second phase validated at 77.91-78.19 on 10,000 tasks, flat from its first validation (77.52 +- 0.53,
    # confirming 77.89 +- 0.17): on the same 10,000 validation tasks its best plays 78.19 and the value-per-step line's
    # fourth phase 78.22 (`python -m rl2lib.evaluate --agent <run> --num_trials 10000 --seed 1000003`), so the cell
    # keeps that line; both lines stand at about 78.2 there and 77.9 on the confirming tasks (bar 78.31). k = 10's first
    # phase validated 0.2-1.0 below value per step's up to 26M steps and level from 28M (82.10 against 82.02 at 30M),
    # still rising, its entropy 0.056 nats per pull (0.037): 81.18 +- 0.43, confirming 81.35 +- 0.14 (81.72 and 81.34)
    # Its second phase validated at 81.54-82.08, level from update 110 (81.86 +- 0.41, confirming 81.74 +- 0.13); value per
    # step's second phase, which fills the cell, plays 82.03 on the same validation tasks: a tie, the cell keeps its line
    # second phases, at the settings each first ended with (`SNAIL_GOES_ON`). k = 10: the recipe's ended at 81.35 (bar
    # 82.16) with its validation still rising (+1.5 +- 0.16 per 1e7 steps over its last 150 updates), and held at
    # 81.4-82.0 (81.26, confirming 81.40); value per step's validated at 82.22 at 27M steps (the recipe's line: 81.67 at
    # 30M, 82.00 at 39M), 81.72 +- 0.41, confirming 81.34 +- 0.13, still rising at +1.1 +- 0.12 per 1e7 steps, and
    # held at 82.1-82.9 (82.36, confirming 81.64). k = 50 value per step ended at 77.51, confirming 76.91 (paper 85.1);
    # k = 5's at 77.63 (bar 77.54), confirming 77.72 (bar 78.31), validating at 78.2-78.6 over its last 100 updates
    cell(
        "snail",
        "bandit",
        100,
        150,
        k=10,
        parent="snail_bandit_k10_n100",
        name="snail_bandit_k10_n100_phase2",
        **SNAIL_GOES_ON,
        **BF16,
    ),
    # the value-per-step lines' second phases, then later ones at the same settings: k = 50's second validated at
    # 77.6-80.6, still rising over its last half (80.55 +- 0.45, confirming 80.18 +- 0.14; paper 85.1), its third at
    # 80.28-81.14, rising at +0.64 +- 0.22 per 1e7 steps over its last half (81.68 +- 0.43, confirming 81.24 +- 0.13), its
    # fourth at 81.27-81.98, flat (-0.11 +- 0.22; 81.81 +- 0.42, confirming 81.42 +- 0.13): the line's plateau;
    # k = 5's second at 78.06-78.73, rising at +0.91 +- 0.18 (77.52 +- 0.52, bar 77.55; confirming 77.84 +- 0.17, bar
    # 78.31), its third at 78.23-78.87, best at its last two validations (77.43 +- 0.52; confirming 77.96 +- 0.17: +0.12
    # a phase on the confirming tasks), its fourth at 78.41-78.83, flat (77.47 +- 0.53, bar 77.52; confirming 77.93 +-
    # 0.17): the line's plateau, 0.69 below Gittins on the confirming tasks where the bar asks for 0.31
    *(
        snail_plateau_phase(f"snail_bandit_k{k}_n100_value_per_step", k, phase)
        for k, phase in ((10, 2), (50, 2), (5, 2), (50, 3), (5, 3), (5, 4), (50, 4))
    ),
    # SNAIL on MDP n = 10: the recipe's second phase (phase 1 stopped at update 550 of 4000), planned for 300 updates
    # and ended at its checkpoint of update 155: its validation return held 154.1-155.1 from update 50 on (26M steps;
    # -0.24 +- 0.11 per 1e7 steps over updates 80-155, no longer rising; the cell's bar about 156.4), so its best is
    # evaluated and the n = 25 warm start starts from it
    cell("snail", "mdp", 10, 155, parent="snail_mdp_n10", name="snail_mdp_n10_phase2", tau=0.9, checkpoint_every=5, **BF16),
    # MDPs: one horizon step at a time from the n = 10 cells
    cell("gru", "mdp", 25, 300, parent="gru_mdp_n10_phase2", **LONGER),
    cell("snail", "mdp", 25, 100, parent="snail_mdp_n10_phase2", **LONGER, **SNAIL_DEPTH, **BF16),
    *(
        cell("snail", "bandit", 500, 100, k=k, parent=f"snail_bandit_k{k}_n100", **LONGER, **SNAIL_DEPTH, **BF16)
        for k in (5, 10, 50)
    ),
    cell("snail", "bandit", 1000, 60, k=50, parent="snail_bandit_k50_n100", **LONGER, **SNAIL_DEPTH, **BF16),
    # played at n = 500 with no retraining on 1000 tasks of seed 4242, k = 10's value-per-step second phase scored 425.0
    # +- 1.9 where the recipe's second phase scored 415.4 +- 2.3 (k = 50: 402.4 from the first phase, 418.2 from the
    # second; k = 5: 403.4 from the first, where the recipe's second phase scored 402.2 and its n = 500 run 399.9): the
    # horizon warm starts from the value-per-step lines' third phases (k = 50's third: 81.68 +- 0.43, confirming
    # 81.24 +- 0.13; k = 5's third), as the GRU's k = 10, n = 500 cell was reached from its value-per-step line; k =
    # 10's at `LONGER`'s gamma 0.99, the later ones at `PER_STEP_LONGER`'s 1
    # (k = 50's fourth phase, flat, played 426.1 +- 1.8 at n = 500 on those tasks, level with the third's 426.7 +- 1.8:
    # the k = 50 warm starts keep the third)
    *(
        cell(
            "snail",
            "bandit",
            n,
            updates,
            k=k,
            parent=phase_run_name(f"snail_bandit_k{k}_n100_value_per_step", phase),
            name=f"snail_bandit_k{k}_n{n}_value_per_step",
            **settings,
            **SNAIL_DEPTH,
            **BF16,
        )
        for k, n, updates, phase, settings in (
            (10, 500, 100, 2, {"value_per_step": True, **LONGER}),
            (5, 500, 100, 3, PER_STEP_LONGER),
            (50, 500, 100, 3, PER_STEP_LONGER),
        )
    ),
    # k = 10's validated at 428.2-431.4 (+0.65 +- 0.47 per 1e7 steps over its last half): 430.20 +- 1.78 (bar 427.07),
    # confirming 425.83 +- 0.60 (bar 428.08); its second phase, at its n = 100 parents' gamma 1 (`PER_STEP_LONGER`),
    # at 430.2-434.1: 430.63 +- 1.79, confirming 428.00 +- 0.59 (bar 428.08); a third at the same settings, at
    # 431.0-433.8: 432.48 +- 1.72, confirming 429.22 +- 0.58 (bar 428.08): the cell reached. k = 5's validated at
    # 404.8-408.1, still rising at its end (+1.45 +- 0.30 per 1e7 steps over updates 55-100,
    # `tables.validation_trend`): 402.26 +- 2.40 (bar 400.89), confirming 404.05 +- 0.78 (bar 404.02), reached by 0.03;
    # a second phase at the same settings, to hold the cell with a margin that another 10,000 tasks will not take
    # away. k = 50's validated at 422.1-427.7, still rising: 429.99 +- 1.85, confirming 428.24 +- 0.57 (paper 442.6);
    # a second phase at the same settings
    *(
        cell(
            "snail",
            "bandit",
            500,
            100,
            k=k,
            parent=previous_phase(f"snail_bandit_k{k}_n500_value_per_step", phase),
            name=phase_run_name(f"snail_bandit_k{k}_n500_value_per_step", phase),
            **PER_STEP_LONGER,
            **SNAIL_DEPTH,
            **BF16,
        )
        for k, phase in ((10, 2), (10, 3), (5, 2), (50, 2))
    ),
    # k = 50, n = 1000 goes on from the n = 500 line (n = 100 -> 500 -> 1000): played at n = 1000 with no retraining on
    # 1000 tasks of seed 4242, its first run scored 864.6 +- 3.3 where the n = 100 line's third phase scored 859.2 +-
    # 3.4 (paper 889.8); it starts from the n = 500 line's second phase, which validated at 428.1-431.0 over its 100
    # updates, flat from update 65 (430.98 +- 1.83, confirming 429.94 +- 0.56; bar 437.11), where the first phase's best
    # held 427.7
    cell(
        "snail",
        "bandit",
        1000,
        60,
        k=50,
        parent="snail_bandit_k50_n500_value_per_step_phase2",
        name="snail_bandit_k50_n1000_value_per_step",
        **PER_STEP_LONGER,
        **SNAIL_DEPTH,
        **BF16,
    ),
    # k = 50's second phase rose slowly (validation 428.1-429.2 over its first 45 updates), and the line plays nearly
    # deterministically (0.013-0.018 nats per pull): on 500 tasks it tried 7.1 of the 50 arms in 500 pulls where
    # Gittins' policy tried 22.5, so PPO seldom samples the plans that would teach it to explore more. The same second
    # phase with an entropy bonus of 0.03 (decaying to 0.003), to compare with it step for step
    cell(
        "snail",
        "bandit",
        500,
        100,
        k=50,
        parent="snail_bandit_k50_n500_value_per_step",
        name="snail_bandit_k50_n500_value_per_step_entropy",
        **PER_STEP_LONGER,
        **SNAIL_DEPTH,
        **BF16,
        ent_coef=0.03,
    ),
    # its entropy stayed at 0.011-0.019 nats per pull, as the second phase's did, and it validated level (427.8-428.8
    # over 25 updates, the second phase 428.1-429.2). A softened start fell back to its plateau on the GRU
    # (gru_bandit_k10_n100_value_per_step_temperature), where the bonus from the first update on did better
    # (gru_bandit_k10_n100_entropy): SNAIL's bonus goes to its n = 100 first phases (snail_bandit_k{k}_n100_entropy)
    # the GRU's MDP n = 50, 75 and 100 warm starts, 100 updates (25M steps) each: gru_mdp_n25 validated at 403.1 after
    # 5 updates and at 403-408 over the 170 it trained, so its evaluated checkpoint is their first parent
    *(cell("gru", "mdp", n, 100, parent=f"gru_mdp_n{parent}", **LONGER) for n, parent in ((50, 25), (75, 50), (100, 75))),
    # each validated flat or falling from its first validation (n = 50: 842.6-846.4; 75: 1283.4-1291.0; 100:
    # 1725.8-1737.9): 843.16 +- 4.04, 1287.31 +- 5.98 and 1731.29 +- 7.96, confirming 837.67, 1277.98 and 1723.40
    # (paper 936.1, 1428.8 and 1913.7), about 90% of the paper where the n = 25 run holds 91%
    # SNAIL's MDP n = 25 warm start validated at 418.6-421.6 over its 100 updates (25M steps), flat from its first
    # validation: 417.76 +- 2.08, confirming 419.56 +- 0.64 (paper 447.4), 12 above the GRU's n = 25 run and 5-9 below
    # the best baselines on the same evaluation tasks (OPSRL 422.9, UCRL2 423.7, BEB 426.6); its n = 50, 75 and 100
    # warm starts go on from it
    *(
        cell("snail", "mdp", n, 100, parent=f"snail_mdp_n{parent}", **LONGER, **SNAIL_DEPTH, **BF16)
        for n, parent in ((50, 25), (75, 50), (100, 75))
    ),
    # each validated flat from its first validation (n = 50: 868.4-874.0; 75: 1326.1-1339.9; 100: 1782.3-1797.0):
    # 864.78 +- 4.08, 1320.65 +- 6.22 and 1785.32 +- 8.24, confirming 868.75, 1328.67 and 1792.18 (paper 942.5,
    # 1448.0 and 1953.5), 91-92% of the paper (n = 25: 93%), and 22-54 above the GRU's runs
    # GRU k = 5, n = 100 on three seeds: 77.62 +- 0.30 (bar 77.81), confirming 78.05 +- 0.09, with its second phase's
    # validation still rising over its last half (+0.083 +- 0.029 per 1e7 steps): a third phase, as k = 10's and 50's
    cell("gru", "bandit", 100, 200, k=5, parent="gru_bandit_k5_n100_phase2", name="gru_bandit_k5_n100_phase3"),
    # it validated at 78.25-78.64, level with the second phase on seed 0: 77.61 +- 0.51, confirming 78.15 +- 0.16
    # (the second phase: 77.67 and 78.14); its seeds are not queued
    # Every MDP cell n >= 25 is a warm start from n = 10 and holds 90-93% of the paper, and no lever on the n = 25
    # warm start moved it (entropy, gamma 0.996, 3x the learning rate: within 3 of gru_mdp_n25; gamma 1 with value
    # per step: 5 below), its policy's entropy at 0.10-0.13 and its KL per update at 0.0005-0.004: the n = 10 policy, which
    # explores for 10 episodes, may be a local optimum the fine-tune cannot leave. MDP n = 25 from scratch with the
    # recipe (gru_mdp_n10's first phase at n = 25: 4000 updates of 40k steps), to compare with gru_mdp_n25's 403-408
    cell("gru", "mdp", 25, 4000, name="gru_mdp_n25_scratch"),
    # It climbed at about the n = 10 first phase's pace per episode and was level over its last 1000 updates (means
    # 381.6 and 379.5): 386.70 +- 2.05, confirming 386.34 +- 0.67, 19 below gru_mdp_n25; the recipe's second phase
    # after it, as gru_mdp_n10's (`recipe_phase2`)
    cell(
        "gru",
        "mdp",
        25,
        600,
        parent="gru_mdp_n25_scratch",
        name="gru_mdp_n25_scratch_phase2",
        **recipe_phase2(TaskConfig(task="mdp", num_traj=25), "gru"),
    ),
    # It validated at 390.3-393.4 over its last 300 updates (means 391.8 and 392.4 over updates 300-450 and 450-600):
    # 394.86 +- 2.08, confirming 393.95 +- 0.66, 8 above its first phase and 11 below gru_mdp_n25: starting from the
    # n = 10 policy is not what holds the MDP cells down
    # The GRU's MDP cells fall further below the paper as n grows (n = 10: 98%, 25: 91%, 100: 90%), under PSRL at
    # n = 25 (408.8), while a 128-unit state must hold what the trial showed of 50 state-action pairs. The RL^2
    # authors' GRU had 256 units: gru_mdp_n25 widened to 256 units that play as it did (`runs.add_hidden_units`), at
    # its settings, to compare with its 403-408 at equal steps
    cell("gru", "mdp", 25, 100, parent="gru_mdp_n25", name="gru_mdp_n25_h256", **LONGER, hidden_size=256),
    # It validated at 406.2-408.2 over its 100 updates (25M steps, 0:45), about 1 above gru_mdp_n25's 406.1-407.9 over the
    # same steps, level from its fifth update: 407.03 +- 2.05, confirming 405.19 +- 0.64 (gru_mdp_n25 at its best: 405.65
    # and 403.66); the new units' share of the policy head's weights grew to a norm of 1.1 (the old units': 31.1)
    # A k = 50 bandit state tracks the pulls and rewards of 50 arms in 128 units: GRU k = 50, n = 100's value-per-step
    # line widened to 256 units from its third phase's best, at that phase's settings, to compare with its plateau
    k50_plateau_fine_tune("gru_bandit_k50_n100_value_per_step_h256", hidden_size=256),
    # It validated at 82.99-83.40 over its 100 updates (25M steps, 0:50), where the third phase held 82.90-83.30 over its
    # last 100: 82.91 +- 0.38, confirming 82.67 +- 0.12 (the third phase: 83.00 and 82.58); not used
    # GRU k = 5, n = 100 plays the recipe's line (77.62 on three seeds, bar 77.81; its third phase level), which never had
    # the value head per step left nor the bonus that reached k = 10: k = 10's entropy line on k = 5, three phases as there
    cell("gru", "bandit", 100, 300, k=5, name="gru_bandit_k5_n100_entropy", value_per_step=True, ent_coef=0.03),
    *(gru_plateau_phase("gru_bandit_k5_n100_entropy", 5, phase, ent_coef=0.003) for phase in (2, 3)),
    # Its first phase validated at 78.77 at 30M steps (the recipe's first phase: 77.76), trying 3.87 of 5 arms by pull
    # 100 where the recipe's second phase tries 3.66 (Gittins 4.16); its third held 78.38-78.55 on the 10,000 validation
    # tasks, where the recipe's line's policies play 78.02-78.28: the cell's line (`paths.CELL_LINES`)
    # GRU k = 50, n = 100 tries 6.4 arms by pull 100 where Gittins tries 9.9: it tries its first four arms in one order
    # in 79% of trials (Gittins, which breaks ties by the lowest index, 77%), but goes back to arms it left 5.3 times a
    # trial (Gittins 0.0; `python -m rl2lib.behaviour`), and its exploration stops by pull 50 (6.3 arms). A curriculum
    # on other arms (`--train_prior_b`), from the third phase's best, with no validation so that its last policy goes
    # on, then back on the paper's arms at the plateau phase's settings. Poorer arms first (Beta(1, 2), mean 1/3):
    *(
        k50_plateau_fine_tune(f"gru_bandit_k50_n100_prior{prior_b}", train_prior_b=float(prior_b), validate_every=0)
        for prior_b in (2, 0.5)
    ),
    # After 70 updates it tried 4.98 arms by pull 100 on the paper's arms, not more: a poorer prior makes a fresh arm
    # worth less beside one that has paid, so it explores less (shelved). Richer arms instead (Beta(1, 0.5), mean 2/3):
    # a fresh arm is worth more, so the policy should leave a middling arm for a fresh one more often
    gru_plateau_phase("gru_bandit_k50_n100_prior0.5", 50, 2),
    # After 100 updates on Beta(1, 0.5) arms it tried 8.25 arms by pull 100 on the paper's arms, but went back to arms it
    # left 10.6 times a trial; back on the paper's arms it returned to its parent's play within 20 updates (6.54 arms,
    # 5.21 returns) and validated at 82.48-82.61 on 10,000 tasks over updates 20-60, where the third phase's best plays
    # 82.54: 82.73 +- 0.39, confirming 82.74 +- 0.12 (shelved). The plateau holds whatever arms the policy trained on
    # Is it a plateau PPO's updates cannot leave, or one its objective prefers? The third phase's network taught to
    # play as Gittins' index policy does (`python -m rl2lib.imitate --student
    # results/runs/gru_bandit_k50_n100_value_per_step_phase3 --teacher gittins --teacher_param 0.99 --run_dir
    # results/runs/gru_bandit_k50_n100_imitate_gittins --num_steps 3000 --trials_per_step 500 --learning_rate 0.001
    # --validate_every 100 --checkpoint_every 50`; outside the tables: a cell is learned from reward alone), then PPO
    # from it at the plateau phase's settings
    k50_plateau_fine_tune("gru_bandit_k50_n100_imitate_gittins_ppo", parent="gru_bandit_k50_n100_imitate_gittins"),
    # Taught, the 128 units played 85.17 on the 10,000 validation tasks (Gittins 85.32, the third phase 82.54); PPO from
    # there validated at 85.57-85.88 over its 100 updates: 85.12 +- 0.30, confirming 85.36 +- 0.09 (Gittins 85.13 and
    # 85.38). The plateau is a local optimum of training from scratch, not a point PPO's objective prefers
    # Gittins' way pays over the rest of the trial: a fresh arm in place of a middling one. With lambda 0.9 an action's
    # advantage reads about ten pulls of reward and then the value head's guess; with lambda 1 it reads every pull to
    # the trial's end (gamma 1). The plateau phase's settings at lambda 1, from its best
    k50_plateau_fine_tune("gru_bandit_k50_n100_tau1", tau=1.0),
    # It validated at 83.06-83.27 over its 100 updates (25M steps), where the third phase held 82.90-83.30 over its
    # last 100: 83.21 +- 0.38, confirming 82.54 +- 0.12 (the third phase: 83.00 and 82.58), trying 6.39 arms by pull
    # 100 with 5.42 returns (the third phase 6.38 and 5.31): the whole trial's rewards in each advantage do not move it
    # Every MDP cell stands level below the paper (90-97%) after its 128-unit line's phases, and widening n = 25's run
    # to 256 units added about 1.5: an MDP trial's statistics (50 state-action pairs' rewards and 500 transition
    # counts) may want the width from the start. The RL^2 authors' size on MDP n = 10 from scratch at the recipe's
    # settings and budget, to compare with gru_mdp_n10 step for step (on an AVX2-only CPU it trains at 7,091 steps/s
    # against the recipe's 14,403, results/bench/bench_cpu_gru_mdp_n10_avx2.json; about 7x on the AMX machine)
    cell("gru", "mdp", 10, 5000, name="gru_mdp_n10_h256", **AUTHORS_SIZE),
    # GRU k = 50, n = 100 from scratch settles where it tries about six arms and goes back to arms it left. At n = 10
    # going back never pays (there are always fresh arms), and the 128-unit n = 10 line plays near the Bayes optimum;
    # at n = 30 it goes back 0.91 times a trial zero-shot (Gittins: never). A horizon curriculum n = 10 -> 30 -> 100
    # at the n = 100 line's value-per-step settings, so that a policy which tries fresh arms meets the longer trials
    # gradually rather than a trial where exploiting the first fair arm pays at once
    cell(
        "gru", "bandit", 30, 100, k=50, parent="gru_bandit_k50_n10_phase3", name="gru_bandit_k50_n30_from_n10", **PER_STEP_LONGER
    ),
    k50_plateau_fine_tune("gru_bandit_k50_n100_from_n30", parent="gru_bandit_k50_n30_from_n10"),
    # At n = 30 it validated from 21.77 to 22.89 (Gittins 22.98 on those tasks), its returns to an arm left falling
    # from 0.91 to 0.28 a trial. At n = 100 it validated from 80.98 to 83.31 over its 100 updates in another search
    # than the plateau's: 5.60 arms by pull 100 and 1.05 returns (the plateau: 6.38 and 5.31). Its next phase
    gru_plateau_phase("gru_bandit_k50_n100_from_n30", 50, 2),
    # It validated from 83.18 to 83.45 on the 10,000 validation tasks (the plateau's third phase plays 82.54 there):
    # 83.22 +- 0.36, confirming 83.44 +- 0.11, trying 5.80 arms by pull 100 with 0.76 returns. Its next phase
    gru_plateau_phase("gru_bandit_k50_n100_from_n30", 50, 3),
    # It validated from 83.45 to 83.69 (+0.1 per 1e7 steps): 83.42 +- 0.36, confirming 83.62 +- 0.11 (bar 84.05),
    # trying 6.00 arms by pull 100 with 0.84 returns. Its next phase
    gru_plateau_phase("gru_bandit_k50_n100_from_n30", 50, 4),
    # It validated at 83.66-83.79 (seed 1's: 83.33-83.50): 83.50 +- 0.36, confirming 83.79 +- 0.11, still rising (+0.045
    # +- 0.013 per 1e7 steps over its last half) where the cell is 0.95 short on its three seeds' third phases. Two
    # more phases at the same settings, as the RL^2 authors trained for up to 5000 updates of 250k steps
    *(gru_plateau_phase("gru_bandit_k50_n100_from_n30", 50, phase) for phase in (5, 6)),
    # Its three seeds' third phases all stop exploring by pull 50 (5.6-5.8 arms, 6.0 by pull 100; Gittins 8.25 and
    # 9.91), and pay for it in pulls 51-100 (regret 5.3-5.6 against Gittins' 3.7; pulls 1-50 level at 9.1-9.4 against
    # 9.0). A longer trial makes a fresh arm worth more: does training at n = 200 teach the policy to go on exploring
    # where it now stops? A probe from the fourth phase's best, played at n = 100 afterwards
    cell(
        "gru",
        "bandit",
        200,
        25,
        k=50,
        parent="gru_bandit_k50_n100_from_n30_phase4",
        name="gru_bandit_k50_n200_from_n100",
        **PER_STEP_LONGER,
    ),
    # In 25 updates (6.25M steps) it validated at 172.80-173.17 at n = 200 (172.41 +- 0.66, confirming 172.90 +- 0.20)
    # and, played at n = 100, tried 6.32 arms by pull 50 and 6.66 by pull 100 where its parent tries 5.90 and 6.11,
    # for the same total (83.66 against 83.71 on the profile's tasks): a small step the way Gittins plays
    # Does the step last, and does it pay once back at n = 100? The probe for 75 more updates at n = 200 (100 in all),
    # then 100 updates at n = 100 at the n = 100 phases' settings, to compare on the 10,000 validation tasks with seed
    # 0's fifth phase, which went on from the same fourth phase at n = 100 only
    cell(
        "gru",
        "bandit",
        200,
        75,
        k=50,
        parent="gru_bandit_k50_n200_from_n100",
        name=phase_run_name("gru_bandit_k50_n200_from_n100", 2),
        **PER_STEP_LONGER,
    ),
    k50_plateau_fine_tune(
        "gru_bandit_k50_n100_from_n200", parent=phase_run_name("gru_bandit_k50_n200_from_n100", 2), validate_trials=10_000
    ),
    # At n = 200 it validated at 173.15-173.73 (172.53 +- 0.64, confirming 173.05 +- 0.20) and, played at n = 100, tried
    # 7.13 arms by pull 100 (its parent 6.11) but lost more in pulls 1-50 (regret 9.49 against 9.11), 83.33 in all
    # against 83.71. Back at n = 100 it validated at 83.61-83.89 where seed 0's fifth phase held 83.75-83.86: 83.37 +-
    # 0.36, confirming 83.83 +- 0.11 (the fifth phase: 83.41 and 83.83). The detour neither pays nor costs
    # The curriculum's fifth and sixth phases held their validation level on all three seeds (seed 0: 83.75-83.86, then
    # 83.63-83.87). A plateau its updates at a learning rate of 1e-3 do not leave: 50 updates from seed 0's sixth phase
    # at 3e-3, the recipe's rate from scratch, to see whether larger steps move it
    k50_plateau_fine_tune(
        "gru_bandit_k50_n100_from_n30_lr3e-3",
        parent=phase_run_name("gru_bandit_k50_n100_from_n30", 6),
        learning_rate=3e-3,
        validate_trials=10_000,
        metalearn_epochs=50,
    ),
    # It validated at 83.69-83.84 over its first 40 updates, then fell to 83.25 at update 45 (the sixth phase: 83.63-83.87):
    # 83.35 +- 0.36, confirming 83.83 +- 0.11 (the sixth phase: 83.26 and 83.83). Larger steps do not leave it either
    # GRU k = 5, n = 500's seeds 1 and 2 (from the recipe's n = 100 seeds) played 397.21 and 394.71 (seed 0: 398.08),
    # a three-seed mean below the bar that three SEs of it set. Zero-shot at n = 500, on 2000 validation tasks, the cell's
    # n = 100 line (the entropy line's third phase) plays 403.94 where the recipe's n = 100 run plays 399.08 and the
    # trained n = 500 run 402.39 (`python -m rl2lib.evaluate --num_actions 5 --num_traj 500 --agent RUN --num_trials
    # 2000 --seed 1000003`): the n = 500 warm start from it, at its value-per-step line's gamma 1
    cell(
        "gru",
        "bandit",
        500,
        60,
        k=5,
        parent="gru_bandit_k5_n100_entropy_phase3",
        name="gru_bandit_k5_n500_from_entropy",
        **PER_STEP_LONGER,
    ),
    # Seeds 0-2 validated at 401.7-407.7, 405.7-407.7 and 404.3-405.9 where the recipe's warm starts held 399.3-402.7,
    # 398.5-401.4 and 396.6-400.4: 400.70, 402.12 and 400.92, confirming 402.88, 404.03 and 402.50; the cell's line
    # (`paths.CELL_LINES`): 401.25 +- 1.40, confirming 403.14 +- 0.45 (bar 397.41)
    # MDP n = 10's third phase held at 150.7-151.9 on 2000 validation tasks over its last 1000 updates of 100k steps at
    # a learning rate of 1e-3 (+0.007 +- 0.005 per 1e7 steps), and playing greedily gains only 0.28: is the plateau its
    # updates' noise? A settling phase from its best: the RL^2 authors' 250k steps per update and no entropy bonus
    # (`FINE_TUNE`) at a fifth of its learning rate, validated on 10,000 tasks
    cell(
        "gru",
        "mdp",
        10,
        50,
        parent="gru_mdp_n10_phase3",
        name="gru_mdp_n10_settle",
        tau=0.9,
        learning_rate=2e-4,
        validate_trials=10_000,
    ),
    # It validated at 151.01-151.15 over its 50 updates where its parent's best plays 151.06 on the same 10,000 tasks
    # (`python -m rl2lib.evaluate --task mdp --num_traj 10 --agent results/runs/gru_mdp_n10_phase3/best.pt --num_trials
    # 10000 --seed 1000003`): 151.28 +- 0.86, confirming 150.94 +- 0.27 (the parent: 151.01 and 151.01). Not noise
    # SNAIL k = 50's three cells (n = 100, 500, 1000) sit 6.6-13.3 below their bars where the GRU plays k = 50, n = 100
    # at 83.6 confirming; SNAIL's 32-wide input Linear folds the 53 columns of k = 50's RL^2 input (one-hot arm) into 32.
    # SNAIL k = 50, n = 100's value-per-step first phase at twice the width (`--snail_width 64`: policy 64, value 32; the
    # bandit network of [2] is not confirmed), to compare with snail_bandit_k50_n100_value_per_step step for step
    cell("snail", "bandit", 100, 300, k=50, name="snail_bandit_k50_n100_wide", value_per_step=True, snail_width=64, **BF16),
    # It rose sooner than seeds 0 and 1 of the 32-wide line and stayed ahead (validation 78.51 at 22M steps where they
    # held 74.15 and 75.34; docs/campaign_log.md), at a third of the 32-wide network's steps per second on one CPU (3,450
    # against 9,300-9,600, each beside another SNAIL run): its phases 2-4 at the 32-wide line's settings
    # (`snail_plateau_phase`), and the same first phase for k = 10, whose cell is 0.6-0.9 short on three seeds of the
    # 32-wide line, to compare with snail_bandit_k10_n100_value_per_step step for step
    *(snail_plateau_phase("snail_bandit_k50_n100_wide", 50, phase, snail_width=64) for phase in (2, 3, 4)),
    cell("snail", "bandit", 100, 300, k=10, name="snail_bandit_k10_n100_wide", value_per_step=True, snail_width=64, **BF16),
)
"""The campaign, in the order it trains: cheapest expected gain first, parents before children."""


def with_seed(run: Run, seed: int) -> Run:
    """Training seed `seed` of campaign run `run`: its settings and budget, named `<name>_seed<seed>`
    (`paths.run_name_for`), started from its parent's run of the same seed."""
    parent = None if run.parent is None else run_name_for(run.parent, seed)
    return Run(run_name_for(run.name, seed), {**run.flags, "seed": seed}, parent)


SEEDED_LINES = {
    "snail_bandit_k50_n10": 2,
    "gru_bandit_k5_n100": 2,
    "gru_bandit_k5_n100_entropy": 3,
    "gru_bandit_k10_n100_entropy": 3,
    "gru_bandit_k50_n100_value_per_step": 3,
    "snail_bandit_k10_n100_value_per_step": 2,
    "snail_bandit_k5_n100_value_per_step": 4,
    "snail_bandit_k50_n100_value_per_step": 4,
    "gru_bandit_k5_n500": 1,
    "gru_bandit_k5_n500_from_entropy": 1,
}
"""The lines of the bandit cells with more than one phase (n = 10, k = 50 for SNAIL; n = 100; `paths.CELL_LINES`) and
the phase each cell plays, cheapest first, then the long-trial lines whose seeds start from their n = 100 parents'
seeds (GRU k = 5, n = 500 from `gru_bandit_k5_n100_seed1` and `_seed2`, or from the entropy line's): their training
seeds 1 and 2 go through the same phases at seed 0's settings and budgets, as [1]'s authors trained five seeds per
cell, so that a cell's number is a mean over three seeds and its best seed stands beside it. (The one-phase n = 10
cells' seeds are listed with their first phases.)"""

# seed 0's first phases of SNAIL k = 50, n = 10, GRU k = 5, n = 100 and GRU k = 50, n = 10 (the root of `CURRICULUM`
# below) were trained before the campaign (and GRU k = 5's seed 1, results/runs/gru_bandit_k5_n100_seed1), so their
# other seeds are spelled out here with their recipes and validations (SNAIL and GRU k = 50: every 10 updates on 1000
# tasks; GRU k = 5: every 5 on 2000)
CAMPAIGN += (
    *(cell("snail", "bandit", 10, 300, k=50, seed=seed, name=run_name_for("snail_bandit_k50_n10", seed)) for seed in (1, 2)),
    *(cell("gru", "bandit", 10, 600, k=50, seed=seed, name=run_name_for("gru_bandit_k50_n10", seed)) for seed in (1, 2)),
    cell(
        "gru", "bandit", 100, 300, k=5, seed=2, name=run_name_for("gru_bandit_k5_n100", 2), validate_every=5, validate_trials=2000
    ),
) + tuple(
    with_seed(run, seed)
    for seed in (1, 2)
    for line, last_phase in SEEDED_LINES.items()
    for run in CAMPAIGN
    if run.flags is not None and run.name in {line, *(phase_run_name(line, phase) for phase in range(2, last_phase + 1))}
)

CURRICULUM = (
    "gru_bandit_k50_n10_phase2",
    "gru_bandit_k50_n10_phase3",
    "gru_bandit_k50_n30_from_n10",
    "gru_bandit_k50_n100_from_n30",
    *(phase_run_name("gru_bandit_k50_n100_from_n30", phase) for phase in range(2, 7)),
)
"""GRU k = 50, n = 100's horizon curriculum above n = 10's first phase (`gru_bandit_k50_n10`, trained before the
campaign): its training seeds 1 and 2 go through every run of it from scratch at seed 0's settings and budgets
(250M steps a seed: 25M, 50M and 25M at n = 10, 10 and 30, then 6 x 25M at n = 100), so that the cell's number is a
mean over three seeds (`paths.CELL_LINES`)."""

CAMPAIGN += tuple(with_seed(run, seed) for seed in (1, 2) for run in CAMPAIGN if run.name in CURRICULUM)

SHELVED = {
    "gru_bandit_k50_n100_phase3": "validated at 82.4-82.6, flat; the cell's line is value per step's",
    "gru_bandit_k50_n500_phase2": "peaked at 431.5; the warm start from the value-per-step line validated at 434.8-436.6",
    "gru_bandit_k10_n100_h256_phase2": "validated at 81.92-82.05 at 7x the time per step; value per step's first phase: 82.91",
    "gru_bandit_k10_n100_relu_phase2": "validated at 81.80-82.02 over 60 updates, flat; value per step's first phase: 82.91",
    "gru_mdp_n10_relu": "fell behind gru_mdp_n10 from 30M steps (training return 121.4 against 126.1 at 40M)",
    "gru_bandit_k10_n100_phase4_authors": "validated at 82.59-82.78 over 15 updates; value per step's first phase: 82.91",
    "gru_bandit_k10_n100_tau1": "stayed at random play (validation 50.1-50.4 over 6M steps)",
    "gru_mdp_n10_value_per_step": "level with gru_mdp_n10 (training return 126.9 against 128.6 at 45M steps)",
    "gru_mdp_n10_phase3_tau1": "validated at 150.4-151.3 over 60 updates, level with its parent's line",
    "gru_mdp_n10_phase3": "validated at 150.7-151.9 over updates 1000-1985 (+0.007 +- 0.005 per 1e7 steps); evaluated there",
    "gru_mdp_n25_value_per_step": "validated at 398.7-401.1 where gru_mdp_n25 held 404.4-406.8",
    "gru_mdp_n25": "validated at 403-408 over 175 updates, flat (bar 439.5), evaluated there; n = 50 goes on from it",
    "snail_bandit_k50_n100": "stopped at update 40 (validation 60.99); the cell's line is value per step's",
    "snail_bandit_k10_n500": "at n = 500 with no retraining the recipe's line scored 415.4 (phase 2), value per step's 425.0",
    "snail_bandit_k50_n100_entropy": "not started: the bonus was level with value per step on SNAIL k = 5 and 10 "
    "(confirming 77.93 against 77.72, 81.74 against 81.64) and 1.2-1.4 below it on GRU k = 50",
    "snail_bandit_k50_n500_value_per_step_entropy": "entropy 0.011-0.019 nats per pull over 25 updates, as the second "
    "phase's; validated at 427.8-428.8 where the second phase held 428.1-429.2",
    "gru_bandit_k50_n100_prior2": "stopped at update 70: on the paper's arms it tried 4.98 arms by pull 100 where its "
    "parent tried 6.38, fewer, not more",
    "gru_bandit_k50_n100_prior0.5_phase2": "stopped at update 60: validated at 82.48-82.61 on 10,000 tasks over updates "
    "20-60, where the third phase's best plays 82.54, trying 6.54 arms by pull 100 as its grandparent did",
}
"""Unfinished runs the campaign passes over unless named: each stalled, or lost on validation to the
line that now fills its cell (`paths.CELL_LINES`; docs/campaign_log.md). Their checkpoints
stand, so any of them resumes when named; the runs below a shelved run are shelved with it."""
