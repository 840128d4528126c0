"""Frozen configuration dataclasses, one per concern.

Every field names the paper symbol it stands for and where its default comes from.
References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779; [2] Mishra et al. 2018, "SNAIL",
arXiv:1707.03141. The command line (`rl2lib.train`, `rl2lib.evaluate`) and the notebooks'
`parameters` cells are two doors into these same classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

TASK_NAMES = ("bandit", "mdp")
DEVICE_NAMES = ("cpu", "cuda", "auto")  # auto: cuda when present
PRECISIONS = ("fp32", "bf16")  # bf16: autocast over the update's forward and backward (`rl2lib.ppo`)


class ConfigError(ValueError):
    """An impossible setting. Its message is one line: what is wrong and what is allowed."""


@dataclass(frozen=True)
class TaskConfig:
    """One cell of the papers' tables: a task distribution and the trial length."""

    task: str = "bandit"
    """'bandit' (Bernoulli arms, [1] Sec. 3.1) or 'mdp' (random tabular MDPs, [1] Sec. 3.2)."""
    num_actions: int = 5
    """k: arms of the bandit, or actions of the MDP (5 in [1] Sec. 3.2)."""
    num_traj: int = 10
    """n: episodes per trial ([1] Tables 1-2 columns)."""
    traj_len: int | None = None
    """Steps per episode: 1 for bandits, 10 for MDPs ([1] Sec. 3.2). None picks the task's value."""
    num_states: int | None = None
    """|S|: 10 for MDPs ([1] Sec. 3.2); a bandit has one state. None picks the task's value."""

    def __post_init__(self) -> None:
        if self.task not in TASK_NAMES:
            raise ConfigError(f"unknown task {self.task!r}; allowed: {', '.join(TASK_NAMES)}")
        if self.traj_len is None:
            object.__setattr__(self, "traj_len", 1 if self.task == "bandit" else 10)
        if self.num_states is None:
            object.__setattr__(self, "num_states", 1 if self.task == "bandit" else 10)
        if self.task == "bandit" and self.num_actions < 2:
            raise ConfigError(f"a bandit needs at least 2 arms, got num_actions={self.num_actions}")
        if self.num_actions < 1:
            raise ConfigError(f"num_actions must be >= 1, got {self.num_actions}")
        if self.num_traj < 1:
            raise ConfigError(f"num_traj (episodes per trial) must be >= 1, got {self.num_traj}")
        if self.task == "bandit" and self.traj_len != 1:
            raise ConfigError(f"a bandit episode is one pull: traj_len must be 1, got {self.traj_len}")
        if self.traj_len < 1:
            raise ConfigError(f"traj_len must be >= 1, got {self.traj_len}")
        if self.task == "bandit" and self.num_states != 1:
            raise ConfigError(f"a bandit has one state: num_states must be 1, got {self.num_states}")
        if self.num_states < 1:
            raise ConfigError(f"num_states must be >= 1, got {self.num_states}")

    @property
    def trial_len(self) -> int:
        """T = n * episode length: environment steps in one trial."""
        return self.num_traj * self.traj_len

    @property
    def obs_size(self) -> int:
        """Width of the RL^2 input: one-hot state, one-hot previous action, reward, done flag."""
        return self.num_states + self.num_actions + 2

    def to_dict(self) -> dict:
        return asdict(self)


MODEL_TYPES = ("gru", "snail")
PAPER_SNAIL_WIDTH = 32
"""SNAIL's policy width D in [2]'s tabular appendix (its value network: half)."""
GRU_NONLINEARITIES = ("tanh", "relu")


@dataclass(frozen=True)
class ModelConfig:
    """The policy network ([1] Sec. 2.2 GRU; [2] Sec. 3 SNAIL)."""

    model_type: str = "gru"
    """'gru' (RL^2, [1]) or 'snail' ([2])."""
    hidden_size: int = 256
    """GRU units: 256 in the RL^2 authors' code. SNAIL's widths are `snail_width`'s."""
    separate_value: bool = False
    """GRU: a second GRU for the value baseline as the RL^2 authors did; False shares the trunk."""
    layer_norm: bool = False
    """GRU: LayerNorm on each GRU output before its head(s), as the best public PyTorch reproduction
    of [1] did (../shared/paper/README.md); [1]'s own GRU used weight normalisation instead."""
    nonlinearity: str = "tanh"
    """GRU: the candidate activation, 'tanh' (PyTorch's GRU) or 'relu' (the RL^2 authors' code,
    ../shared/paper/README.md)."""
    first_dilation: int = 2
    """SNAIL: dilation of the first DenseBlock of each TCBlock, doubling after. 2 is [2]'s definition
    (2^i from i = 1), under which the convolutions never reach step t - 1; 1 starts at 2^0."""
    clock: bool = False
    """The policy's input ends with a clock, the fraction of the trial's steps left, which
    `rl2lib.agents.PolicyAgent` appends to the RL^2 input: a count the network could keep itself
    (every step is one input), given so that it need not; [1] and [2] feed no clock."""
    snail_width: int = PAPER_SNAIL_WIDTH
    """SNAIL: D of the policy network, the width of its input Linear, of every DenseBlock's output and of
    its attention's keys and values (32 in [2]'s tabular appendix); the value network gets D / 2 (16 in
    [2]). The bandit network of [2] is not confirmed; a 32-wide input Linear folds the RL^2 input of
    k = 50 arms (53 columns) into fewer dimensions than it has."""
    depth_len: int | None = None
    """SNAIL: the trial length T' whose ceil(log2 T') sets each TCBlock's number of DenseBlocks ([2]
    Sec. 3); None: the task's own T. A longer T' builds a short-trial network at a long-trial depth,
    so that it can warm-start the longer trials (`--init_from`) with the same weights."""

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ConfigError(f"unknown model_type {self.model_type!r}; allowed: {', '.join(MODEL_TYPES)}")
        if self.hidden_size < 1:
            raise ConfigError(f"hidden_size must be >= 1, got {self.hidden_size}")
        if self.first_dilation not in (1, 2):
            raise ConfigError(f"first_dilation must be 1 or 2, got {self.first_dilation}")
        if self.layer_norm and self.model_type != "gru":
            raise ConfigError("layer_norm is a GRU setting; SNAIL has none")
        if self.nonlinearity not in GRU_NONLINEARITIES:
            raise ConfigError(f"unknown nonlinearity {self.nonlinearity!r}; allowed: {', '.join(GRU_NONLINEARITIES)}")
        if self.nonlinearity != "tanh" and self.model_type != "gru":
            raise ConfigError("nonlinearity is a GRU setting; SNAIL has none")
        if self.snail_width < 2 or self.snail_width % 2:
            raise ConfigError(f"snail_width must be even and >= 2 (the value network gets half), got {self.snail_width}")
        if self.snail_width != PAPER_SNAIL_WIDTH and self.model_type != "snail":
            raise ConfigError("snail_width is a SNAIL setting; a GRU's width is hidden_size")
        if self.depth_len is not None and (self.model_type != "snail" or self.depth_len < 1):
            raise ConfigError(
                f"depth_len is SNAIL's TCBlock depth as for trials of that many steps (>= 1); "
                f"got {self.depth_len} for model_type {self.model_type!r}"
            )


@dataclass(frozen=True)
class PPOConfig:
    """PPO [4] with GAE [5] over whole trials. The defaults are a short bandit trial's settings, not any
    recipe's: `rl2lib.cli.recipe` sets every field per task from the command line's flags."""

    num_trials: int = 1000
    """Trials sampled per update (the CLI's --batch_size in steps, rounded to whole trials)."""
    minibatch_trials: int = 250
    """Whole trials per minibatch (--mini_batch_size in steps, rounded up to at least one trial)."""
    update_epochs: int = 4
    """K, passes over the batch per update (--ppo_epochs)."""
    clip_coef: float = 0.2
    """epsilon of the clipped surrogate [4] Eq. 7 (--clip_param)."""
    gamma: float = 0.99
    """Discount over the whole trial ([1] Sec. 2.2: the objective spans episodes)."""
    gae_lambda: float = 0.3
    """GAE lambda [5] (--tau); 0.3 in the RL^2 authors' code."""
    learning_rate: float = 3e-3
    """Adam step size."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the run (the original project did)."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    ent_coef: float = 0.01
    """Entropy bonus at the first update."""
    ent_coef_final: float | None = 0.001
    """Entropy bonus at the last update, linearly interpolated; None keeps ent_coef."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    adam_eps: float = 1e-5
    """Adam's epsilon (CleanRL's and OpenAI baselines' PPO value; torch's default is 1e-8)."""
    target_kl: float | None = None
    """Stop the update's epochs once a minibatch's mean KL (old || new) passes this; None: never."""
    clip_value_loss: bool = False
    """Clip the value update around the old value [4]-style (as in the OpenAI baselines)."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    norm_returns: bool = True
    """Train the value head on returns normalised by running statistics (denormalised for GAE)."""
    value_per_step: bool = False
    """The value head predicts the return-to-go per (discounted) step left in the trial, which the update
    multiplies back (`rl2lib.envs.trial.steps_left`): the RL^2 input has no clock ([1] Sec. 2.2; `clock` adds one to
    the policy's), and a long
    trial's return-to-go is mostly the steps left times a reward rate (Pardo et al. 2018, "Time Limits in
    Reinforcement Learning": a value that cannot tell the time left is biased)."""

    def __post_init__(self) -> None:
        checks = [
            (self.num_trials >= 1, f"num_trials (trials per update, --batch_size in steps) must be >= 1, got {self.num_trials}"),
            (
                self.minibatch_trials >= 1,
                f"minibatch_trials (--mini_batch_size in steps) must be >= 1, got {self.minibatch_trials}",
            ),
            (
                self.minibatch_trials <= self.num_trials,
                f"a minibatch ({self.minibatch_trials} trials) cannot exceed the batch ({self.num_trials} trials)",
            ),
            (self.update_epochs >= 1, f"update_epochs (--ppo_epochs) must be >= 1, got {self.update_epochs}"),
            (self.clip_coef > 0, f"clip_coef (--clip_param) must be > 0, got {self.clip_coef}"),
            (0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}"),
            (0 <= self.gae_lambda <= 1, f"gae_lambda (--tau) must be in [0, 1], got {self.gae_lambda}"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (self.vf_coef >= 0, f"vf_coef must be >= 0, got {self.vf_coef}"),
            (self.ent_coef >= 0, f"ent_coef must be >= 0, got {self.ent_coef}"),
            (self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}"),
            (self.target_kl is None or self.target_kl > 0, f"target_kl must be > 0, got {self.target_kl}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


@dataclass(frozen=True)
class TrainConfig:
    """One training run: a task, a model, PPO, and the run's bookkeeping."""

    task: TaskConfig = TaskConfig()
    model: ModelConfig = ModelConfig()
    ppo: PPOConfig = PPOConfig()
    num_updates: int = 300
    """PPO updates (--metalearn_epochs)."""
    num_tasks: int = 0
    """0: a fresh task for every trial, the papers' setting ([1] Sec. 3); N > 0: a fixed pool of N tasks."""
    seed: int = 0
    """Seeds the model's initialisation, the tasks, the environment noise, actions and minibatches."""
    checkpoint_every: int = 10
    """Write a checkpoint every this many updates (and at the end)."""
    validate_every: int = 0
    """0: never; N: every N updates, evaluate on `validate_trials` held-out validation tasks (a fixed
    seed, never the evaluation seed) and keep the best policy so far as best.pt."""
    validate_trials: int = 1000
    """Trials (one task each) in a validation."""
    init_from: str | None = None
    """A checkpoint of an earlier run with the same task and model (recorded relative to the
    repository when inside it): this run starts from its policy, Adam moments and return normaliser
    (a second phase with other PPO settings), and counts environment steps and wall seconds on from
    that checkpoint's (a best.pt's counts stop at its update, not at the end of its run)."""
    precision: str = "fp32"
    """fp32, or bf16: the PPO update's forward and backward passes run under bfloat16 autocast, while
    sampling, the loss, GAE, the Adam state and the checkpoints stay fp32 (`rl2lib.ppo.update_autocast`)."""
    init_temperature: float = 1.0
    """The `init_from` policy's temperature when this run starts from it: its logits divided by it (the policy head's
    weights and bias), so that a parent that has come to play nearly deterministically samples the other actions
    again and PPO can learn from them; 1 keeps the parent's policy."""
    train_prior_b: float = 1.0
    """Bandits: the training tasks' arms draw p_i ~ Beta(1, b) instead of the paper's U[0, 1] = Beta(1, 1). With
    b > 1 the first arms tried pay less, so more trials must go on to fresh arms and PPO sees how to order many of
    them: a curriculum for a policy that stops exploring early. Validation, evaluation and the tables always draw
    the paper's tasks; 1 trains on them too."""

    def __post_init__(self) -> None:
        if self.num_updates < 1:
            raise ConfigError(f"num_updates (--metalearn_epochs) must be >= 1, got {self.num_updates}")
        if self.num_tasks < 0:
            raise ConfigError(f"num_tasks must be >= 0 (0 = a fresh task per trial), got {self.num_tasks}")
        if self.checkpoint_every < 1:
            raise ConfigError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.validate_every < 0:
            raise ConfigError(f"validate_every must be >= 0 (0 = never), got {self.validate_every}")
        if self.validate_trials < 2:
            raise ConfigError(f"validate_trials must be >= 2, got {self.validate_trials}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {self.precision!r}; allowed: {', '.join(PRECISIONS)}")
        if not self.init_temperature > 0:
            raise ConfigError(f"init_temperature must be > 0 (1 keeps the parent's policy), got {self.init_temperature}")
        if self.init_temperature != 1 and self.init_from is None:
            raise ConfigError("init_temperature applies to a warm start: give --init_from too, or leave it at 1")
        if not self.train_prior_b > 0:
            raise ConfigError(f"train_prior_b must be > 0 (1: the paper's uniform arms), got {self.train_prior_b}")
        if self.train_prior_b != 1 and self.task.task != "bandit":
            raise ConfigError(f"train_prior_b sets the prior of bandit arms; task {self.task.task} takes only 1")

    @property
    def steps_per_update(self) -> int:
        """Environment steps sampled per update."""
        return self.ppo.num_trials * self.task.trial_len

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return cls(
            task=TaskConfig(**data["task"]),
            model=ModelConfig(**data["model"]),
            ppo=PPOConfig(**data["ppo"]),
            **{k: v for k, v in data.items() if k not in ("task", "model", "ppo")},
        )
