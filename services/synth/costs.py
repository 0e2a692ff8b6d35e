"""Cost, length of stay, the 14 fee categories and who pays: all in integer fen, exact to the fen."""

from __future__ import annotations

import math
import random

from libs.common.money import Money

from .catalogue import DrgRecipe
from .mix import COST_HINTS, TAIL_COSTS
from .params import SynthParams

SEVERITY_COST = {"1": 1.75, "3": 1.3, "5": 1.0, "9": 1.15}
SEVERITY_LOS = {"1": 1.6, "3": 1.25, "5": 1.0, "9": 1.1}

# Shares of the 14 fee categories (01 bed ... 14 other) for a typical case of each kind.
_SHARES = {
    # 12 general diagnosis and 13 registration are outpatient fees: rare on an inpatient list.
    "surgical": (4, 1, 7, 7, 6, 18, 4, 30, 18, 0.3, 1.5, 0, 0, 2),
    "medical": (7, 2, 12, 13, 9, 0, 6, 7, 37, 1, 4, 0, 0, 1.2),
    "newborn": (10, 2, 8, 12, 14, 0, 14, 8, 26, 0, 1, 0, 0, 2.8),
}
_DRUG_OR_MATERIAL = frozenset({8, 9, 10, 11})
# (categories, shares) of the categories a kind of case has at all, and with the TCM additions.
_TCM_EXTRA = {10: 6.0, 11: 4.0}


def _present(shares: tuple[float, ...], extra: dict[int, float]) -> tuple[tuple[int, ...], tuple[float, ...]]:
    kept = [(i + 1, s + extra.get(i + 1, 0)) for i, s in enumerate(shares) if s + extra.get(i + 1, 0) > 0]
    return tuple(c for c, _ in kept), tuple(s for _, s in kept)


_PRESENT = {k: _present(v, {}) for k, v in _SHARES.items()}
_TCM_SHARES = {k: _present(v, _TCM_EXTRA) for k, v in _SHARES.items()}


FeeItem = tuple[int, int, int, int, int, int]
"""One fee category in fen: (category 1..14, amount, class A 甲类, class B 乙类, fully self-paid 全自费, other).
A plain tuple: a dozen are made per list, on the generator's hot path."""
AMOUNT, SELF_PAID = 1, 4


class CostModel:
    """Expected cost per DRG (seeded by the DRG code, so stable across runs and regions)."""

    def __init__(self, params: SynthParams, seed: int) -> None:
        self._params = params
        self._seed = seed
        self._sigma = math.sqrt(math.log(1 + params.cost_cv**2))
        self._cache: dict[str, tuple[float, float]] = {}

    def expected(self, recipe: DrgRecipe, level: int) -> tuple[float, float]:
        """(expected cost in yuan, expected length of stay in days) of a DRG at a hospital level."""
        base = self._cache.get(recipe.drg)
        if base is None:
            rng = random.Random(f"{self._seed}:{recipe.adrg}")
            hint = COST_HINTS.get(recipe.adrg)
            if hint is not None:  # a common group: its reported mean, give or take 10%
                cost, los = hint[0] * rng.uniform(0.9, 1.1), hint[1] * rng.uniform(0.9, 1.1)
            elif recipe.surgical:
                median, sigma, days = TAIL_COSTS["surgical"]
                cost, los = median * rng.lognormvariate(0, sigma), days * rng.uniform(0.7, 1.4)
            else:
                median, sigma, days = TAIL_COSTS["medical"]
                cost, los = median * rng.lognormvariate(0, sigma), days * rng.uniform(0.7, 1.3)
            base = (cost * SEVERITY_COST.get(recipe.severity, 1.0), los * SEVERITY_LOS.get(recipe.severity, 1.0))
            self._cache[recipe.drg] = base
        return base[0] * self._params.level_cost_factor[level], base[1]

    def draw(self, expected: float, rng: random.Random) -> tuple[float, str]:
        """A case cost around ``expected`` (log-normal, mean preserved) and its outlier kind ("", "high", "low")."""
        p = self._params
        cost = expected * math.exp(rng.gauss(-self._sigma**2 / 2, self._sigma))
        roll = rng.random()
        if roll < p.high_outlier_rate:
            return expected * rng.uniform(3.0, 6.0), "high"
        if roll < p.high_outlier_rate + p.low_outlier_rate:
            return expected * rng.uniform(0.1, 0.38), "low"
        return cost, ""


def length_of_stay(expected_los: float, cost_ratio: float, rng: random.Random) -> int:
    """Days, correlated with cost: LOS grows with the square root of the cost ratio, with its own noise."""
    return max(1, round(expected_los * math.sqrt(max(cost_ratio, 0.01)) * math.exp(rng.gauss(0, 0.25))))


def split_fees(total: int, kind: str, tcm: bool, rng: random.Random) -> list[FeeItem]:
    """Split ``total`` fen into the 14 categories with shares that fit the case; sums exactly to ``total``."""
    noise = rng.random
    categories, shares = _TCM_SHARES[kind] if tcm else _PRESENT[kind]
    weights = [s * (0.55 + 0.9 * noise()) for s in shares]  # each share varies by -45% .. +45%
    # Exact to the fen: each category its share rounded down, the fen left over by largest remainder.
    amounts = [part.fen for part in Money(total).allocate([round(w * 1_000_000) for w in weights])]
    items: list[FeeItem] = []
    for category, amount in zip(categories, amounts, strict=True):
        if amount <= 0:
            continue
        if category in _DRUG_OR_MATERIAL:  # drugs and materials: partly class B, a little fully self-paid
            roll = noise()
            class_b = int(amount * (0.3 + 0.3 * roll))
            self_paid = int(amount * 0.05 * (1 - roll))
            items.append((category, amount, amount - class_b - self_paid, class_b, self_paid, 0))
        else:
            items.append((category, amount, amount, 0, 0, 0))
    return items
