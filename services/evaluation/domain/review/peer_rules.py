"""Upcoding (高编高套) against peers: a hospital's (or doctor's) share of MCC/CC groups far above what the region's
shares for the same ADRGs predict, and, among its MCC/CC stays, those whose cost does not show the extra
severity (no more resources than the same ADRG's stays without complications).

The expected count is the sum, over the unit's stays in ADRGs with a severity split, of the region's MCC/CC
share of that ADRG; the z-score is (observed - expected) / sqrt(sum p(1 - p)) (indirect standardisation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from libs.common.money import fen_text

from .model import Category, Hit, Stay
from .rules import Context, Param, Params, ParamType, RuleKind, Scope, decimal, integer

COMPLICATED = frozenset({"1", "3"})
PLAIN = "5"
UNITS: dict[str, Callable[[Stay], str]] = {"hospital": lambda s: s.fixmedins_code, "doctor": lambda s: s.doctor}
OWN_BASIS_MIN = 5


@dataclass
class _Unit:
    stays: int = 0
    observed: int = 0
    expected: float = 0.0
    variance: float = 0.0

    @property
    def z(self) -> float:
        return (self.observed - self.expected) / math.sqrt(self.variance) if self.variance > 0 else 0.0


def severity_share(stays: Sequence[Stay], ctx: Context, params: Params) -> Iterator[Hit]:
    unit_of = UNITS[params["unit"]]
    z_min, least = float(params["z"]), params["min_stays"]
    min_ratio, cost_ratio = float(params["min_ratio"]), params["cost_ratio"]
    by_adrg: dict[str, list[Stay]] = {}
    for stay in stays:
        g = stay.group
        if g is not None and (g.severity in COMPLICATED or g.severity == PLAIN) and unit_of(stay):
            by_adrg.setdefault(g.adrg, []).append(stay)
    share: dict[str, float] = {}
    for adrg, members in by_adrg.items():
        complicated = sum(1 for s in members if s.group and s.group.severity in COMPLICATED)
        if 0 < complicated < len(members):
            share[adrg] = complicated / len(members)
    units: dict[str, _Unit] = {}
    for adrg, p in share.items():
        for stay in by_adrg[adrg]:
            u = units.setdefault(unit_of(stay), _Unit())
            u.stays += 1
            u.observed += stay.group is not None and stay.group.severity in COMPLICATED
            u.expected += p
            u.variance += p * (1 - p)
    population = sum(len(by_adrg[a]) for a in share)
    for key, u in sorted(units.items()):
        ratio = u.observed / u.expected if u.expected else 0.0
        if u.stays < least or u.z <= z_min or ratio < min_ratio:
            continue
        peer = (f"{params['unit']} {key} has MCC/CC groups in {u.observed} of {u.stays} stays of ADRGs with a "
                f"severity split, {u.expected:.1f} expected from the review's shares per ADRG (z = {u.z:.1f} > "
                f"{z_min:g}, ratio {ratio:.2f} >= {min_ratio:g}; population: {population} stays, {len(units)} "
                f"{params['unit']}s, {len(share)} ADRGs)")
        yield from _unsupported(key, unit_of, {a: by_adrg[a] for a in share}, cost_ratio, peer)


def _unsupported(key: str, unit_of: Callable[[Stay], str], split_adrgs: dict[str, list[Stay]],
                 cost_ratio: Decimal, peer: str) -> Iterator[Hit]:
    """The unit's MCC/CC stays, in the ADRGs with a severity split, that cost no more than ``cost_ratio`` times the
    ADRG's median without complications (the unit's own median where it has enough such stays)."""
    for adrg, members in sorted(split_adrgs.items()):
        plain_all = [s.total_fen for s in members if s.group and s.group.severity == PLAIN and s.total_fen]
        plain_own = [s.total_fen for s in members
                     if s.group and s.group.severity == PLAIN and s.total_fen and unit_of(s) == key]
        basis = median(plain_own) if len(plain_own) >= OWN_BASIS_MIN else median(plain_all) if plain_all else 0
        whose = "its own" if len(plain_own) >= OWN_BASIS_MIN else "the review's"
        if not basis:
            continue
        limit = float(cost_ratio) * basis
        by_drg: dict[str, list[int]] = {}
        for s in members:
            if s.group and s.total_fen:
                by_drg.setdefault(s.group.drg, []).append(s.total_fen)
        plain_median = median(plain_all) if plain_all else 0
        for stay in members:
            g = stay.group
            if g is None or g.severity not in COMPLICATED or unit_of(stay) != key or stay.total_fen is None:
                continue
            if stay.total_fen > limit:
                continue
            at_stake = max(0, int(median(by_drg[g.drg]) - plain_median))
            yield Hit(stay, at_stake,
                      f"{peer}; this stay's DRG {g.drg} ({'MCC' if g.severity == '1' else 'CC'}) cost "
                      f"{fen_text(stay.total_fen)} yuan, at most {cost_ratio} x {whose} median cost "
                      f"{fen_text(int(basis))} of ADRG {adrg} stays without complications: the severity is not "
                      f"borne out by resource use; at stake: median cost of {g.drg} minus that of ADRG {adrg} "
                      f"without complications, {fen_text(at_stake)} yuan")


def _unit_param(default: str) -> Param:
    return Param(ParamType.CHOICE, default, "who is compared with peers: hospital or doctor",
                 choices=frozenset(UNITS))


def _params(unit: str) -> dict[str, Param]:
    return {"unit": _unit_param(unit),
            "z": decimal("3", "z-score of the MCC/CC count above which a unit is an outlier", "1", "20"),
            "min_ratio": decimal("1.3", "observed / expected MCC/CC count at least", "1", "10"),
            "min_stays": integer(30, "stays in split ADRGs a unit needs to be judged", 5, 1_000_000),
            "cost_ratio": decimal("1.2", "an MCC/CC stay is unsupported at most this multiple of the ADRG's median "
                                  "cost without complications", "0.1", "5")}


KINDS = (
    RuleKind("severity_share", Category.UPCODING, Scope.POPULATION,
             "a unit's MCC/CC share far above peers for the same ADRGs; flags its MCC/CC stays whose cost does not "
             "show the severity", _params("hospital"), check_group=severity_share),
)
