"""Upcoding (高编高套) by case-mix index: a hospital's (or doctor's) CMI over the ADRGs it treats far above what its
peers' CMI in the same ADRGs predicts, and, among its stays, those coded into a heavier DRG than their cost bears.

The MCC/CC share (``peer_rules.py``) counts a stay with complications as one whatever its weight; the CMI weighs
each stay by its DRG's relative weight, so it also sees a CC coded up to an MCC, and an ADRG whose DRGs differ
little in weight counts little.

- **Weights**: ``RW_g`` = trimmed mean cost of DRG g / trimmed mean cost of every grouped stay of the review (the
  CHS-DRG definition of a relative weight, over the review's own population; costs outside the 5th-95th
  percentile of their group left out), for DRGs with at least ``min_group_stays`` stays. The review has no
  settlement weight table of its own; the population's costs are what its reviewers can check.
- **Unit**: over its stays in ADRGs with more than one weighted DRG, observed ``O`` = sum of their weights,
  expected ``E`` = sum of the peers' mean weight in each stay's ADRG, ``V`` = sum of the peers' variance of the
  weight there; ``z = (O - E) / sqrt(V)`` and ``O / E`` is its CMI over its peers' CMI for the same ADRG mix
  (indirect standardisation). Peers: the other units' stays at hospitals of the same level, the unit's own left
  out (as ``peer_rules.py`` does, for the same reasons).
- **Stays** of an outlier unit: those in a DRG heavier than its peers' mean in the ADRG whose cost is nearer (on a
  log scale) to the peers' median cost of a lighter DRG of the ADRG than to that of its own DRG: the coding says
  one DRG, the resources another. At stake: ``(RW_own - RW_fitted) x`` the review's mean cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from statistics import median

from libs.common.money import fen_text

from .model import Category, Hit, Stay
from .peer_rules import PEERS_MIN, UNITS
from .rules import Context, Param, Params, ParamType, RuleKind, Scope, decimal, integer

TRIM = (0.05, 0.95)  # percentiles of a group's costs kept for its mean (nearest rank)


@dataclass(frozen=True)
class Weights:
    """Relative weights of the review's DRGs and the mean cost they are relative to (fen)."""

    rw: dict[str, float]
    avg_all: float
    stays: int


def _trimmed(costs: list[int]) -> list[int]:
    costs = sorted(costs)
    n = len(costs)
    lo, hi = costs[max(0, math.ceil(TRIM[0] * n) - 1)], costs[max(0, math.ceil(TRIM[1] * n) - 1)]
    return [c for c in costs if lo <= c <= hi]


def relative_weights(stays: Sequence[Stay], min_group_stays: int) -> Weights:
    """Each DRG's trimmed mean cost over the trimmed mean cost of all its stays (DRGs with enough stays)."""
    costs: dict[str, list[int]] = {}
    for s in stays:
        if s.group is not None and s.total_fen:
            costs.setdefault(s.group.drg, []).append(s.total_fen)
    kept = {drg: _trimmed(c) for drg, c in costs.items() if len(c) >= min_group_stays}
    everything = [c for group in kept.values() for c in group]
    if not everything:
        return Weights({}, 0.0, 0)
    avg_all = sum(everything) / len(everything)
    return Weights({drg: sum(c) / len(c) / avg_all for drg, c in kept.items()}, avg_all, len(everything))


@dataclass
class _Sums:
    n: int = 0
    w: float = 0.0
    w2: float = 0.0

    def add(self, weight: float) -> None:
        self.n += 1
        self.w += weight
        self.w2 += weight * weight


@dataclass
class _Unit:
    stays: int = 0
    observed: float = 0.0
    expected: float = 0.0
    variance: float = 0.0
    adrgs: int = 0

    @property
    def z(self) -> float:
        return (self.observed - self.expected) / math.sqrt(self.variance) if self.variance > 0 else 0.0


def cmi_peers(stays: Sequence[Stay], ctx: Context, params: Params) -> Iterator[Hit]:
    unit, unit_of = params["unit"], UNITS[params["unit"]]
    z_min, min_ratio, least = float(params["z"]), float(params["min_ratio"]), params["min_stays"]
    weights = relative_weights(stays, params["min_group_stays"])
    rw = weights.rw
    by_adrg: dict[str, list[Stay]] = {}
    for s in stays:
        if s.group is not None and s.group.drg in rw and unit_of(s):
            by_adrg.setdefault(s.group.adrg, []).append(s)
    split = {a for a, members in by_adrg.items() if len({s.group.drg for s in members if s.group}) > 1}
    peers: dict[tuple[int, str], _Sums] = {}
    own: dict[tuple[str, int, str], _Sums] = {}
    for adrg in split:
        for s in by_adrg[adrg]:
            w = rw[s.group.drg] if s.group else 0.0
            peers.setdefault((s.hospital_level, adrg), _Sums()).add(w)
            own.setdefault((unit_of(s), s.hospital_level, adrg), _Sums()).add(w)
    units: dict[str, _Unit] = {}
    for (key, level, adrg), mine in own.items():
        everyone = peers[(level, adrg)]
        n = everyone.n - mine.n
        if n < PEERS_MIN:  # no peers of its level to compare with in this ADRG
            continue
        mean = (everyone.w - mine.w) / n
        variance = max(0.0, (everyone.w2 - mine.w2) / n - mean * mean)
        u = units.setdefault(key, _Unit())
        u.stays += mine.n
        u.observed += mine.w
        u.expected += mine.n * mean
        u.variance += mine.n * variance
        u.adrgs += 1
    population = sum(len(by_adrg[a]) for a in split)
    levels = sorted({level for level, _ in peers})
    compared = ("the other stays at hospitals of its level" if 0 not in levels else
                "the other stays, hospital levels unknown" if levels == [0] else
                "the other stays at hospitals of its level, or of unknown level where its level is unknown")
    for key, u in sorted(units.items()):
        ratio = u.observed / u.expected if u.expected else 0.0
        if u.stays < least or u.z <= z_min or ratio < min_ratio:
            continue
        why = (f"{unit} {key} has a CMI of {u.observed / u.stays:.4f} over its {u.stays} stays in {u.adrgs} ADRGs "
               f"with more than one DRG, {u.expected / u.stays:.4f} expected from its peers' mean weights per ADRG "
               f"(peers: {compared}; z = {u.z:.1f} > {z_min:g}, ratio {ratio:.3f} >= {min_ratio:g}; population: "
               f"{population} stays, {len(units)} {unit}s, {len(split)} ADRGs; weights: each DRG's mean cost over "
               f"the mean cost {fen_text(round(weights.avg_all))} yuan of the review's {weights.stays} grouped "
               f"stays, costs outside their group's 5th-95th percentile left out)")
        yield from _unsupported(key, unit_of, by_adrg, split, weights=weights, why=why)


def _unsupported(key: str, unit_of: Callable[[Stay], str], by_adrg: dict[str, list[Stay]], split: set[str], *,
                 weights: Weights, why: str) -> Iterator[Hit]:
    """The unit's stays in a DRG heavier than its peers' mean in the ADRG whose cost fits a lighter DRG better."""
    rw = weights.rw
    for adrg in sorted(split):
        members = by_adrg[adrg]
        mine = [s for s in members if unit_of(s) == key and s.total_fen and s.group]
        if not mine:
            continue
        level = mine[0].hospital_level
        peer_costs: dict[str, list[int]] = {}
        peer_weights: list[float] = []
        for s in members:
            if s.hospital_level == level and unit_of(s) != key and s.group:
                peer_weights.append(rw[s.group.drg])
                if s.total_fen:
                    peer_costs.setdefault(s.group.drg, []).append(s.total_fen)
        if len(peer_weights) < PEERS_MIN:
            continue
        bar = sum(peer_weights) / len(peer_weights)
        medians, anchor = _expected_costs(peer_costs, rw, {s.group.drg for s in members if s.group})
        basis = (f"; a median not observed is the peers' median cost of {anchor} x the weights' ratio"
                 if anchor else "")
        for stay in mine:
            assert stay.group is not None and stay.total_fen
            drg = stay.group.drg
            own_rw = rw[drg]
            if own_rw <= bar or drg not in medians:
                continue
            lighter = [d for d in medians if rw[d] < own_rw]
            if not lighter:
                continue
            cost = math.log(stay.total_fen)
            fit = min([drg, *sorted(lighter)], key=lambda d: abs(cost - math.log(medians[d])))
            if fit == drg:
                continue
            at_stake = max(0, round((own_rw - rw[fit]) * weights.avg_all))
            yield Hit(stay, at_stake,
                      f"{why}; this stay's DRG {drg} (RW {own_rw:.4f}, above the peers' mean {bar:.4f} in ADRG "
                      f"{adrg}) cost {fen_text(stay.total_fen)} yuan, nearer the peers' median cost "
                      f"{fen_text(round(medians[fit]))} of {fit} (RW {rw[fit]:.4f}) than their median "
                      f"{fen_text(round(medians[drg]))} of {drg}{basis}: the weight is not borne out by resource "
                      f"use; at stake: ({own_rw:.4f} - {rw[fit]:.4f}) x {fen_text(round(weights.avg_all))} = "
                      f"{fen_text(at_stake)} yuan")


def _expected_costs(peer_costs: dict[str, list[int]], rw: dict[str, float],
                    drgs: set[str]) -> tuple[dict[str, float], str]:
    """The peers' median cost of each DRG of an ADRG where they have enough stays of it; for the others (a
    hospital level that rarely codes the MCC group), the median of the DRG they have most stays of (the anchor)
    times the weights' ratio. Returns the medians and the anchor ("" when none was needed)."""
    medians = {drg: float(median(c)) for drg, c in peer_costs.items() if len(c) >= PEERS_MIN}
    missing = drgs - set(medians)
    if not medians or not missing:
        return medians, ""
    anchor = max(medians, key=lambda d: (len(peer_costs[d]), d))
    for drg in missing:
        medians[drg] = medians[anchor] * rw[drg] / rw[anchor]
    return medians, anchor


def _params(unit: str) -> dict[str, Param]:
    return {"unit": Param(ParamType.CHOICE, unit, "who is compared with peers: hospital or doctor",
                          choices=frozenset(UNITS)),
            "z": decimal("3", "z-score of the unit's summed weights above which it is an outlier", "1", "20"),
            "min_ratio": decimal("1.05", "the unit's CMI over its peers' CMI for the same ADRG mix at least", "1",
                                 "10"),
            "min_stays": integer(30, "stays in ADRGs with more than one DRG a unit needs to be judged", 5, 1_000_000),
            "min_group_stays": integer(5, "stays a DRG needs in the review to have a weight", 2, 1_000_000)}


KINDS = (
    RuleKind("cmi_peers", Category.UPCODING, Scope.POPULATION,
             "a unit's CMI for the same ADRGs far above its peers'; flags its stays coded into a DRG heavier than "
             "their cost bears", _params("hospital"), check_group=cmi_peers),
)
