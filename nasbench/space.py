"""The search-space contract: define-by-run sampling against an Optuna trial, exact encoding, members, budgets.

The library (search, scaling, tabulation) takes a `SearchSpace` object; the families live in the top-level
`search_spaces` package, which the library never imports.

A family implements three things: `build(trial)` (only `trial.suggest_*` calls, through `self.suggest`, so every
parameter keeps one name and one distribution), `read(genome)` (the parameters `build` would need to give that
genome back; best effort, checked by replaying them) and `adapt(params)` (a zoo architecture's parameters
changed to suit this space's input). Everything else here is shared.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from nasbench import zoo
from nasbench.cost import Cost, analytic_cost
from nasbench.errors import SettingError
from nasbench.genome import Genome

DEFAULT_INPUT = {"in_chans": 1, "resolution": 16, "num_classes": 10}  # the embedded digits data, as searched


# ---- parameter declarations ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Categorical:
    choices: tuple
    doc: str
    when: str = ""  # the condition under which the parameter is suggested ("" = always)

    def distribution(self) -> BaseDistribution:
        return CategoricalDistribution(self.choices)

    def suggest(self, trial, name: str) -> Any:
        return trial.suggest_categorical(name, self.choices)

    def describe(self) -> str:
        return " | ".join(map(str, self.choices))

    def grid_values(self) -> list:
        return list(self.choices)


@dataclasses.dataclass(frozen=True)
class Integer:
    low: int
    high: int
    doc: str
    log: bool = False
    when: str = ""

    def distribution(self) -> BaseDistribution:
        return IntDistribution(self.low, self.high, log=self.log)

    def suggest(self, trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def describe(self) -> str:
        return f"int {self.low}..{self.high}" + (" (log)" if self.log else "")

    def grid_values(self) -> list:
        return list(range(self.low, self.high + 1))


@dataclasses.dataclass(frozen=True)
class Real:
    low: float
    high: float
    doc: str
    step: float | None = None
    when: str = ""

    def distribution(self) -> BaseDistribution:
        return FloatDistribution(self.low, self.high, step=self.step)

    def suggest(self, trial, name: str) -> float:
        value = trial.suggest_float(name, self.low, self.high, step=self.step)
        return round(value, 9) if self.step else value  # grid points without float noise: 1.15, not 1.1500000000000001

    def describe(self) -> str:
        return f"float {self.low}..{self.high}" + (f" step {self.step}" if self.step else "")

    def grid_values(self) -> list:
        """The stepped values low, low + step, ..., high; ValueError for a continuous range."""
        if not self.step:
            raise ValueError(f"a continuous range ({self.describe()}) has no grid")
        return [round(self.low + k * self.step, 9) for k in range(round((self.high - self.low) / self.step) + 1)]


Param = Categorical | Integer | Real


def inside(distribution: BaseDistribution, value: Any) -> bool:
    """Whether `value` is one of the values `distribution` can suggest (its choices, or in range and on its step)."""
    if isinstance(distribution, CategoricalDistribution):
        return any(value == choice and type(value) is type(choice) for choice in distribution.choices)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    if isinstance(distribution, IntDistribution) and not isinstance(value, int):
        return False
    if not distribution.low <= value <= distribution.high:
        return False
    step = getattr(distribution, "step", None)
    if not step:
        return True
    offset = (value - distribution.low) / step
    return abs(offset - round(offset)) < 1e-8


class ReplayTrial:
    """Answers `suggest_*` calls from fixed values, like `optuna.trial.FixedTrial`, but strictly: a missing value
    or one outside the declared distribution raises ValueError, and `unused()` names values nobody asked for."""

    def __init__(self, params: dict[str, Any]):
        self.params = dict(params)
        self.asked: list[str] = []

    def _value(self, name: str, distribution: BaseDistribution) -> Any:
        if name not in self.params:
            raise ValueError(f"parameter {name!r} is missing")
        value = self.params[name]
        if not inside(distribution, value):
            raise ValueError(f"parameter {name}={value!r} is outside its range ({distribution})")
        self.asked.append(name)
        return value

    def suggest_categorical(self, name: str, choices) -> Any:
        return self._value(name, CategoricalDistribution(choices))

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        return self._value(name, IntDistribution(low, high, log=log, step=step))

    def suggest_float(self, name: str, low: float, high: float, step: float | None = None, log: bool = False) -> float:
        return self._value(name, FloatDistribution(low, high, step=step, log=log))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Budgets are not checked while replaying."""

    def unused(self) -> list[str]:
        return [name for name in self.params if name not in self.asked]


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Path of the first place two JSON documents differ ('' if equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}".lstrip(".")
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found.lstrip(".")
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} (length {len(a)} vs {len(b)})".lstrip(".")
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return ""
    return "" if a == b and type(a) is type(b) else (path.lstrip(".") or "genome")


# ---- the space ---------------------------------------------------------------------------------------------------
class SearchSpace:
    """A parameterised family of genomes for one input (channels, resolution, classes), optionally under budgets."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    zoo_families: ClassVar[tuple[str, ...]] = ()  # zoo families whose architectures are this space's members

    def __init__(self, in_chans: int = DEFAULT_INPUT["in_chans"], resolution: int = DEFAULT_INPUT["resolution"],
                 num_classes: int = DEFAULT_INPUT["num_classes"], max_flops: float | None = None,
                 max_params: float | None = None):
        for label, value in (("in_chans", in_chans), ("resolution", resolution), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive integer, got {value!r}")
        for label, value in (("max_flops", max_flops), ("max_params", max_params)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value <= 0):
                raise ValueError(f"{label} must be a positive number or None, got {value!r}")
        self.in_chans, self.resolution, self.num_classes = in_chans, resolution, num_classes
        self.max_flops, self.max_params = max_flops, max_params
        self._specs: dict[str, Param] | None = None
        self._members: dict[str, Genome] | None = None

    def for_input(self, in_chans: int, resolution: int, num_classes: int, max_flops: float | None = None,
                  max_params: float | None = None) -> SearchSpace:
        """The same family for another input and budgets."""
        return type(self)(in_chans=in_chans, resolution=resolution, num_classes=num_classes, max_flops=max_flops,
                          max_params=max_params)

    def __repr__(self) -> str:
        budget = "".join(f", {k}={v:g}" for k, v in (("max_flops", self.max_flops), ("max_params", self.max_params))
                         if v is not None)
        return (f"{type(self).__name__}(in_chans={self.in_chans}, resolution={self.resolution}, "
                f"num_classes={self.num_classes}{budget})")

    # ---- what a family implements ------------------------------------------------------------------------------
    def declare(self) -> dict[str, Param]:
        """Every parameter `build` may suggest, by name."""
        raise NotImplementedError

    def build(self, trial) -> Genome:
        """Define-by-run: the genome the trial's suggestions describe (always valid)."""
        raise NotImplementedError

    def read(self, genome: Genome) -> dict[str, Any]:
        """The parameters `build` needs to return `genome` (verified by `encode`, so it may guess)."""
        raise NotImplementedError

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        """A zoo architecture's parameters changed for this space's input (stems, downsampling)."""
        return params

    # ---- shared ------------------------------------------------------------------------------------------------
    def specs(self) -> dict[str, Param]:
        if self._specs is None:
            self._specs = self.declare()
        return self._specs

    def suggest(self, trial, name: str) -> Any:
        return self.specs()[name].suggest(trial, name)

    def parameters(self) -> dict[str, str]:
        """Parameter name -> human description of its choices."""
        out = {}
        for name, spec in self.specs().items():
            text = f"{spec.describe()}: {spec.doc}"
            out[name] = text + (f" (only when {spec.when})" if spec.when else "")
        return out

    def grid(self) -> dict[str, list]:
        """Every parameter's values, for Optuna's GridSampler. ValueError for a space with conditional or
        continuous parameters, where a grid is undefined."""
        conditional = [name for name, spec in self.specs().items() if spec.when]
        if conditional:
            raise ValueError(f"the {self.name} space has conditional parameters ({', '.join(conditional[:3])}, ...), "
                             f"so no grid; use another sampler or a space such as compound or lecture")
        try:
            return {name: spec.grid_values() for name, spec in self.specs().items()}
        except ValueError as exc:
            raise ValueError(f"the {self.name} space has no grid: {exc}") from None

    def grid_size(self) -> int:
        return math.prod(len(values) for values in self.grid().values())

    def distributions(self) -> dict[str, BaseDistribution]:
        return {name: spec.distribution() for name, spec in self.specs().items()}

    def sample(self, trial) -> Genome:
        """A genome from the trial's suggestions. With a budget, the trial's "constraints" user attribute becomes
        [flops - max_flops, params - max_params] (positive = over budget; 0 for a budget that is not set), and
        each set budget is also an Optuna trial constraint ("flops", "params"), which samplers read natively."""
        genome = self.build(trial)
        if self.max_flops is not None or self.max_params is not None:
            constraints = self.constraints(genome)
            trial.set_user_attr("constraints", constraints)
            for key, budget, value in zip(("flops", "params"), (self.max_flops, self.max_params), constraints):
                if budget is not None:
                    trial.set_constraint(key, value)
        return genome

    def sample_within_budget(self, ask: Callable[[], Any], reject: Callable[[Any, Genome, str], None],
                             max_draws: int) -> tuple[Any, Genome] | None:
        """Draw trials from `ask()` until one's genome fits the budgets: (trial, genome). Each over-budget draw is
        handed to `reject(trial, genome, why)`; None when `max_draws` draws found nothing."""
        for _ in range(max_draws):
            trial = ask()
            genome = self.sample(trial)
            reason = self.over_budget(genome)
            if reason is None:
                return trial, genome
            reject(trial, genome, reason)
        return None

    def encode(self, genome: Genome) -> dict[str, Any]:
        """The parameters `sample` suggests for `genome`; ValueError if the genome is not a point of this space."""
        if not isinstance(genome, Genome):
            raise ValueError(f"expected a Genome, got {type(genome).__name__}")
        where = (f"the {self.name} space ({self.in_chans}x{self.resolution}x{self.resolution}, "
                 f"{self.num_classes} classes)")
        try:
            params = self.read(genome)
        except (ValueError, AttributeError, IndexError, KeyError, TypeError, ZeroDivisionError) as exc:
            raise ValueError(f"genome is not a point of {where}: its structure does not fit ({exc})") from None
        replay = ReplayTrial(params)
        try:
            rebuilt = self.build(replay)
        except ValueError as exc:
            raise ValueError(f"genome is not a point of {where}: {exc}") from None
        if rebuilt != genome:
            diff = first_difference(genome.to_dict(), rebuilt.to_dict())
            raise ValueError(f"genome is not a point of {where}: the nearest point differs at {diff}")
        return {name: params[name] for name in replay.asked}

    def contains(self, genome: Genome) -> bool:
        try:
            self.encode(genome)
        except ValueError:
            return False
        return True

    def adapt_genome(self, genome: Genome) -> Genome:
        """A zoo genome adapted to this space's input, as a point of the space."""
        return self.build(ReplayTrial(self.adapt(self.read(genome))))

    def members(self) -> dict[str, Genome]:
        """The canonical zoo architectures of this family, adapted to the input: name -> genome."""
        if self._members is None:
            self._members = {entry.name: self.adapt_genome(entry.genome)
                             for entry in zoo.all_entries()
                             if entry.family in self.zoo_families and not entry.variant_of}
        return dict(self._members)

    # ---- cost and budgets --------------------------------------------------------------------------------------
    def cost(self, genome: Genome) -> Cost:
        return analytic_cost(genome)

    def constraints(self, genome: Genome) -> list[float]:
        """[flops - max_flops, params - max_params]: positive = over budget; 0 where no budget is set."""
        cost = self.cost(genome)
        return [float(cost.flops - self.max_flops) if self.max_flops is not None else 0.0,
                float(cost.params - self.max_params) if self.max_params is not None else 0.0]

    def over_budget(self, genome: Genome) -> str | None:
        """Why the genome breaks a budget ("flops 1.2e+09 > max_flops 5e+08"), or None."""
        cost = self.cost(genome)
        reasons = []
        if self.max_flops is not None and cost.flops > self.max_flops:
            reasons.append(f"flops {cost.flops:.3g} > max_flops {self.max_flops:.3g}")
        if self.max_params is not None and cost.params > self.max_params:
            reasons.append(f"params {cost.params:.3g} > max_params {self.max_params:.3g}")
        return "; ".join(reasons) or None


def random_study(seed: int) -> optuna.Study:
    """An in-memory study with Optuna's RandomSampler(seed), to draw genomes from a space outside a search."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))


def random_samples(space: SearchSpace, count: int, seed: int, draws_per_sample: int = 50) -> list[dict]:
    """`count` within-budget genomes drawn by Optuna's RandomSampler(seed): genome JSON, params, FLOPs and the
    suggestions that gave each. Over-budget draws are told to the study as failed and drawn again, as in a search;
    ValueError when `count` genomes within the budget are not found in `draws_per_sample * count` draws."""
    study = random_study(seed)
    out: list[dict] = []

    def reject(trial, genome: Genome, reason: str) -> None:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)

    draws = draws_per_sample * count
    while len(out) < count:
        found = space.sample_within_budget(study.ask, reject, draws - len(study.trials))
        if found is None:
            raise ValueError(f"only {len(out)} of {count} samples fit the budget in {draws} draws; raise the "
                             "FLOP or parameter budget")
        trial, genome = found
        cost = space.cost(genome)
        out.append({"genome": genome.to_dict(), "params": cost.params, "flops": cost.flops,
                    "parameters": trial.params})
        study.tell(trial, 0.0)
    return out


def check_budgets_reachable(space: SearchSpace, draws: int = 200, seed: int = 0) -> None:
    """SettingError (naming the budget) when none of `draws` random samples fits the space's budgets: a search
    would sample until its cap and train nothing."""
    if space.max_flops is None and space.max_params is None:
        return
    study, costs = random_study(seed), []
    if space.sample_within_budget(study.ask, lambda trial, genome, why: costs.append(space.cost(genome)), draws):
        return
    smallest = min(costs, key=lambda c: (c.params, c.flops))
    budgets = " and ".join(f"{name} {value:.3g}" for name, value in (("max_flops", space.max_flops),
                                                                    ("max_params", space.max_params))
                           if value is not None)
    setting = "max_params" if space.max_params is not None and smallest.params > space.max_params else "max_flops"
    raise SettingError(f"none of {draws} random samples of the {space.name} space fits {budgets} (the smallest has "
                       f"{smallest.params:,} params and {smallest.flops:,} FLOPs); raise the budget", setting)
