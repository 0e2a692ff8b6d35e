"""Upcoding (高编高套) by case-mix index: a hospital's (or doctor's) CMI over the ADRGs it treats far above what its
peers' CMI in the same ADRGs predicts, and, among its stays, those coded into a heavier DRG than their cost bears.

The MCC/CC share (``peer_rules.py``) counts a stay with complications as one whatever its weight; the CMI weighs
each stay by its DRG's relative weight, so it also sees a CC coded up to an MCC, and an ADRG whose DRGs differ
little in weight counts little.

- **Weights**: ``RW_g`` = trimmed mean cost of DRG g / trimmed mean cost of every grouped stay of the review (the
  CHS-DRG definition of a relative weight, over the review's own population; costs outside the 5th-95th
  percentile of their group left out), for DRGs with at least ``min_group_stays`` stays. The review has no
  settlement weight table of its own; the population's costs are what its reviewers can check.
- **Unit**: over its stays in ADRGs with more than one weighted DRG, its CMI ``O / n`` against ``E / n``, the CMI
  its peers' mean weight in each stay's ADRG predicts (indirect standardisation). The test is on each stay's
  weight relative to that mean, ``r = RW / mean_ADRG``: the index ``R = mean r`` (its CMI for the same ADRGs over
  its peers', each ADRG counting by its stays, not by its weight) and ``z = (sum r - n) / sqrt(sum var_ADRG /
  mean_ADRG^2)``. On raw weights a handful of very heavy ADRGs (tracheostomy groups weigh 15-40) would carry
  nearly all the variance and hide an excess spread over common ones. Peers: the other units' stays at hospitals
  of the same level, the unit's own left out (as ``peer_rules.py`` does, for the same reasons).
- **Stays** of an outlier unit: those in a DRG heavier than its peers' mean in the ADRG whose cost is nearer (on a
  log scale) to the peers' median cost of a lighter DRG of the ADRG than to that of its own DRG: the coding says
  one DRG, the resources another. Honest heavy stays are sometimes cheap too, so per ADRG no more are flagged than
  the unit's excess weight there explains, those costing least against their own DRG's median first. At stake:
  ``(RW_own - RW_fitted) x`` the review's mean cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from statistics import median

from libs.common.money import fen_text

from .model import Category, Hit, Stay
from .peer_rules import PEERS_MIN, UNITS, peers_compared
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
    observed: float = 0.0  # sum of weights
    expected: float = 0.0  # sum of the peers' mean weight of each stay's ADRG
    relative: float = 0.0  # sum of r = weight / the peers' mean weight of its ADRG
    variance: float = 0.0  # sum of the peers' variance of r in each stay's ADRG
    adrgs: int = 0

    @property
    def index(self) -> float:
        return self.relative / self.stays if self.stays else 0.0

    @property
    def z(self) -> float:
        return (self.relative - self.stays) / math.sqrt(self.variance) if self.variance > 0 else 0.0


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
        u.relative += mine.w / mean
        u.variance += mine.n * variance / (mean * mean)
        u.adrgs += 1
    population = sum(len(by_adrg[a]) for a in split)
    compared = peers_compared({level for level, _ in peers})
    for key, u in sorted(units.items()):
        if u.stays < least or u.z <= z_min or u.index < min_ratio:
            continue
        why = (f"{unit} {key} has a CMI of {u.observed / u.stays:.4f} over its {u.stays} stays in {u.adrgs} ADRGs "
               f"with more than one DRG, {u.expected / u.stays:.4f} expected from its peers' mean weights per ADRG; "
               f"its stays weigh on average {u.index:.3f} x its peers' mean weight in the same ADRG (peers: "
               f"{compared}; z = {u.z:.1f} > {z_min:g}, index {u.index:.3f} >= {min_ratio:g}; population: "
               f"{population} stays, {len(units)} {unit}s, {len(split)} ADRGs; weights: each DRG's mean cost over "
               f"the mean cost {fen_text(round(weights.avg_all))} yuan of the review's {weights.stays} grouped "
               f"stays, costs outside their group's 5th-95th percentile left out)")
        yield from _unsupported(key, unit_of, by_adrg, split, weights=weights, why=why)


def _unsupported(key: str, unit_of: Callable[[Stay], str], by_adrg: dict[str, list[Stay]], split: set[str], *,
                 weights: Weights, why: str) -> Iterator[Hit]:
    """The unit's stays in a DRG heavier than its peers' mean in the ADRG whose cost fits a lighter DRG better; per
    ADRG, no more of them than its excess weight there explains (its weights minus its stays x the peers' mean):
    honest heavy stays cost little too at times, so the ones whose cost is furthest below their own DRG's median
    go first, and a stay is flagged while the weight the stays before it give back is below the excess."""
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
        excess = sum(rw[s.group.drg] for s in mine if s.group) - len(mine) * bar
        if excess <= 0:
            continue
        medians, anchor = _expected_costs(peer_costs, rw, {s.group.drg for s in members if s.group})
        found: list[tuple[float, str, Stay, str]] = []
        for stay in mine:
            assert stay.group is not None and stay.total_fen
            drg = stay.group.drg
            if rw[drg] <= bar or drg not in medians:
                continue
            lighter = [d for d in medians if rw[d] < rw[drg]]
            cost = math.log(stay.total_fen)
            fit = min([drg, *sorted(lighter)], key=lambda d: abs(cost - math.log(medians[d])))
            if fit != drg:
                found.append((cost - math.log(medians[drg]), stay.setl_id, stay, fit))
        found.sort(key=lambda f: (f[0], f[1]))
        given_back = 0.0
        where = (f"; in ADRG {adrg} its {len(mine)} stays weigh {excess:.4f} more than as many at its peers' mean "
                 f"{bar:.4f}: of its {len(found)} stays in a heavier DRG whose cost fits a lighter one, those costing "
                 f"least against their own DRG's peer median are flagged while the weight they give back stays "
                 f"below that excess")
        basis = (f"; a median not observed is the peers' median cost of {anchor} x the weights' ratio"
                 if anchor else "")
        for _, _, stay, fit in found:
            if given_back >= excess:
                break
            assert stay.group is not None and stay.total_fen
            drg = stay.group.drg
            given_back += rw[drg] - rw[fit]
            at_stake = max(0, round((rw[drg] - rw[fit]) * weights.avg_all))
            yield Hit(stay, at_stake,
                      f"{why}{where}; this stay's DRG {drg} (RW {rw[drg]:.4f}) cost {fen_text(stay.total_fen)} "
                      f"yuan, nearer the peers' median cost {fen_text(round(medians[fit]))} of {fit} (RW "
                      f"{rw[fit]:.4f}) than their median {fen_text(round(medians[drg]))} of {drg}{basis}: the weight "
                      f"is not borne out by resource use; at stake: ({rw[drg]:.4f} - {rw[fit]:.4f}) x "
                      f"{fen_text(round(weights.avg_all))} = {fen_text(at_stake)} yuan")


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
            "min_ratio": decimal("1.03", "the unit's stays' mean weight relative to its peers' mean weight in the "
                                 "same ADRG at least", "1", "10"),
            "min_stays": integer(30, "stays in ADRGs with more than one DRG a unit needs to be judged", 5, 1_000_000),
            "min_group_stays": integer(5, "stays a DRG needs in the review to have a weight", 2, 1_000_000)}


KINDS = (
    RuleKind("cmi_peers", Category.UPCODING, Scope.POPULATION,
             "a unit's CMI for the same ADRGs far above its peers'; flags its stays coded into a DRG heavier than "
             "their cost bears", _params("hospital"), check_group=cmi_peers),
)
