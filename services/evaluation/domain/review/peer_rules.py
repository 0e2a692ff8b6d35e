"""Upcoding (高编高套) against peers: a hospital's (or doctor's) share of MCC/CC groups far above what its peers'
shares for the same ADRGs predict, and, among its MCC/CC stays, those whose cost does not show the extra
severity (no more resources than the same ADRG's stays without complications).

The expected count is the sum, over the unit's stays in ADRGs with a severity split, of its peers' MCC/CC share
of that ADRG; the z-score is (observed - expected) / sqrt(sum p(1 - p)) (indirect standardisation). Peers are
the other units' stays at hospitals of the same level (同级医院; all together where levels are unknown): tertiary
hospitals treat sicker patients, and a pool of every level sets a secondary upcoder's bar at the tertiary
hospitals' share. The unit's own stays are left out of its expectation: a large upcoder otherwise raises the
share it is compared with (one with a third of an ADRG's stays hides a third of its excess).
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
PEERS_MIN = 5  # a unit's stays of an ADRG are compared when its peers have at least this many there


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
    split: set[str] = set()  # ADRGs with stays both with and without MCC/CC
    peers: dict[tuple[int, str], list[int]] = {}  # (hospital level, ADRG) -> [stays, MCC/CC stays]
    own: dict[tuple[str, int, str], list[int]] = {}  # (unit, hospital level, ADRG) -> [stays, MCC/CC stays]
    for adrg, members in by_adrg.items():
        complicated = 0
        for s in members:
            hard = int(s.group is not None and s.group.severity in COMPLICATED)
            complicated += hard
            for counts in (peers.setdefault((s.hospital_level, adrg), [0, 0]),
                           own.setdefault((unit_of(s), s.hospital_level, adrg), [0, 0])):
                counts[0] += 1
                counts[1] += hard
        if 0 < complicated < len(members):
            split.add(adrg)
    units: dict[str, _Unit] = {}
    for (key, level, adrg), (n, mcc_cc) in own.items():
        if adrg not in split:
            continue
        total, complicated = peers[(level, adrg)]
        if total - n < PEERS_MIN:  # no peers of its level to compare with in this ADRG
            continue
        p = (complicated - mcc_cc) / (total - n)  # the peers' share: every other unit's stays there, same level
        u = units.setdefault(key, _Unit())
        u.stays += n
        u.observed += mcc_cc
        u.expected += n * p
        u.variance += n * p * (1 - p)
    population = sum(len(by_adrg[a]) for a in split)
    compared = peers_compared({level for level, _ in peers})
    for key, u in sorted(units.items()):
        ratio = u.observed / u.expected if u.expected else 0.0
        if u.stays < least or u.z <= z_min or ratio < min_ratio:
            continue
        unit = params["unit"]
        peer = (f"{unit} {key} has MCC/CC groups in {u.observed} of {u.stays} stays of ADRGs with a severity split, "
                f"{u.expected:.1f} expected from its peers' shares per ADRG (peers: {compared}; "
                f"z = {u.z:.1f} > {z_min:g}, ratio {ratio:.2f} >= {min_ratio:g}; population: {population} stays, "
                f"{len(units)} {unit}s, {len(split)} ADRGs)")
        yield from _unsupported(key, unit_of, {a: by_adrg[a] for a in sorted(split)}, cost_ratio, peer)


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


def peers_compared(levels: set[int]) -> str:
    """Who a unit was compared with, in the words of a flag's evidence (level 0: a hospital of unknown level)."""
    return ("the other stays at hospitals of its level" if 0 not in levels else
            "the other stays, hospital levels unknown" if levels == {0} else
            "the other stays at hospitals of its level, or of unknown level where its level is unknown")


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
