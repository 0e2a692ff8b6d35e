"""Case-level rules: split admission (per person), low-standard admission and over-long stay (statistical).

Statistical rules compare a stay with its population (the stays of the same DRG in the review) and write the
population, its norm and the threshold into the evidence, so that a reviewer can check the arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from statistics import median

from libs.common.money import fen_text

from .model import Category, Hit, Stay
from .rules import Context, Param, Params, ParamType, RuleKind, Scope, decimal, integer

RELATED_BY = frozenset({"category", "diagnoses", "adrg", "mdc", "chapter"})
# ICD-10 chapters by the first code of each (the chapter of a code is the last one starting at or before it);
# U codes (special purposes, chapter XXII) sit between T and V alphabetically and are told apart first.
ICD10_CHAPTERS = (("A00", "I"), ("C00", "II"), ("D50", "III"), ("E00", "IV"), ("F00", "V"), ("G00", "VI"),
                  ("H00", "VII"), ("H60", "VIII"), ("I00", "IX"), ("J00", "X"), ("K00", "XI"), ("L00", "XII"),
                  ("M00", "XIII"), ("N00", "XIV"), ("O00", "XV"), ("P00", "XVI"), ("Q00", "XVII"),
                  ("R00", "XVIII"), ("S00", "XIX"), ("V01", "XX"), ("Z00", "XXI"))


RELATED_DEFAULT = ("category", "diagnoses", "adrg", "mdc", "chapter")
"""CONTRACT says "a related condition" without narrowing it: the same category, ADRG, MDC (body system) or
ICD-10 chapter all count; a readmission for a condition of another system is not related."""


def split_admission(stays: Sequence[Stay], ctx: Context, params: Params) -> Iterator[Hit]:
    """``stays``: one person's stays at one hospital in admission order. A stay admitted within ``window_days``
    days (calendar days) of an earlier stay's discharge, for a related condition, is a split admission; both stays
    are flagged, the money at stake (the readmission's cost) on the readmission."""
    window = params["window_days"]
    exempt = params["exempt_principal"]
    for i, later in enumerate(stays):
        if later.admitted is None or not later.diagnoses or later.diagnoses[0].startswith(exempt):
            continue
        for earlier in reversed(stays[:i]):
            if earlier.discharged is None or earlier.mdtrt_id == later.mdtrt_id or not earlier.diagnoses:
                continue
            gap = (later.admitted.date() - earlier.discharged.date()).days
            if gap > window or gap < 0 or earlier.discharged > later.admitted:
                continue  # too long ago; or overlapping stays: a data question, not a readmission
            why = related(earlier, later, params["related"])
            if not why:
                continue
            story = (f"{later.psn_no} readmitted to {later.fixmedins_code} on {later.admitted.date()}, {gap} day(s) "
                     f"after discharge on {earlier.discharged.date()} (stays {earlier.setl_id} and {later.setl_id}); "
                     f"principal diagnoses {earlier.diagnoses[0]} then {later.diagnoses[0]}: {why}; window "
                     f"{window} days after discharge")
            cost = later.total_fen or 0
            yield Hit(later, cost, f"{story}; the readmission's cost {fen_text(cost)} yuan is at stake",
                      related_setl_id=earlier.setl_id)
            yield Hit(earlier, 0, f"{story}; this is the first stay", related_setl_id=later.setl_id)
            break


def related(a: Stay, b: Stay, ways: Sequence[str]) -> str:
    """Why two stays' conditions are related (in words), or "" when they are not in any of ``ways``."""
    pa, pb = a.diagnoses[0], b.diagnoses[0]
    if "category" in ways and pa[:3] == pb[:3]:
        return f"same category {pa[:3]}"
    if "diagnoses" in ways:
        if pb[:3] in {d[:3] for d in a.diagnoses}:
            return f"{pb[:3]} was already a diagnosis of the first stay"
        if pa[:3] in {d[:3] for d in b.diagnoses}:
            return f"{pa[:3]} is again a diagnosis of the readmission"
    if a.group and b.group:
        if "adrg" in ways and a.group.adrg == b.group.adrg:
            return f"same ADRG {a.group.adrg}"
        if "mdc" in ways and a.group.mdc == b.group.mdc:
            return f"same MDC {a.group.mdc}"
    if "chapter" in ways and (chapter := icd10_chapter(pa)) and chapter == icd10_chapter(pb):
        return f"same ICD-10 chapter {chapter}"
    return ""


def icd10_chapter(code: str) -> str:
    """The ICD-10 chapter (roman numeral) of a diagnosis code, "" for a code that does not start with A-Z + 2
    digits."""
    head = code[:3].upper()
    if len(head) < 3 or not ("A" <= head[0] <= "Z") or not head[1:].isdigit():
        return ""
    if head[0] == "U":
        return "XXII"
    chapter = ""
    for first, name in ICD10_CHAPTERS:
        if head < first:
            break
        chapter = name
    return chapter


@dataclass(frozen=True, slots=True)
class Norm:
    """A DRG's population in the review: size and medians of length of stay (days) and cost (fen)."""

    drg: str
    size: int
    los: float
    cost: float


def drg_norms(stays: Sequence[Stay]) -> dict[str, Norm]:
    los: dict[str, list[int]] = {}
    cost: dict[str, list[int]] = {}
    for stay in stays:
        if stay.group is None:
            continue
        if stay.los_days is not None:
            los.setdefault(stay.group.drg, []).append(stay.los_days)
        if stay.total_fen is not None:
            cost.setdefault(stay.group.drg, []).append(stay.total_fen)
    return {drg: Norm(drg, len(values), median(values), median(cost[drg]) if cost.get(drg) else 0.0)
            for drg, values in los.items()}


def over_long_stay(stays: Sequence[Stay], ctx: Context, params: Params) -> Iterator[Hit]:
    """A stay whose length is above ``ratio`` x its DRG's median and at least ``min_excess_days`` over it. The money
    at stake is the part of its cost attributable to the days beyond the median: ``cost x (LOS - median) / LOS``
    (a stay's cost spread evenly over its days; the days of the norm are the payment the DRG was made for)."""
    ratio: Decimal = params["ratio"]
    least, extra = params["min_population"], params["min_excess_days"]
    norms = drg_norms(stays)
    for stay in stays:
        norm = norms.get(stay.group.drg) if stay.group else None
        los = stay.los_days
        if norm is None or los is None or norm.size < least:
            continue
        limit = float(ratio) * norm.los
        if los > limit and los - norm.los >= extra:
            cost = stay.total_fen or 0
            excess = Fraction(los) - Fraction(norm.los)  # the median of whole days is whole or a half
            at_stake = excess_cost(cost, excess, los)
            yield Hit(stay, at_stake,
                      f"length of stay {los} days; population: {norm.size} stays of DRG {norm.drg} in this review, "
                      f"median {norm.los:g} days; threshold: above {ratio} x median = {limit:g} days and at least "
                      f"{extra} days over the median; at stake: the cost of the {_days(excess)} days beyond the "
                      f"median, cost {fen_text(cost)} yuan x {_days(excess)} / {los} days = {fen_text(at_stake)} yuan")


def excess_cost(cost_fen: int, excess_days: Fraction, los: int) -> int:
    """``cost x excess_days / los`` in fen, rounded half up."""
    share = cost_fen * excess_days / los
    return int((share * 2 + 1) // 2)


def _days(days: Fraction) -> str:
    return str(days.numerator) if days.denominator == 1 else f"{float(days):g}"


def low_standard_admission(stays: Sequence[Stay], ctx: Context, params: Params) -> Iterator[Hit]:
    """Short, cheap, no procedure, discharged on medical advice, and an outpatient-treatable condition: a diagnosis
    of ``outpatient_dx`` or (``medical_groups``) a medical DRG without complications."""
    max_los, ratio, least = params["max_los"], params["cost_ratio"], params["min_population"]
    outpatient: tuple[str, ...] = params["outpatient_dx"]
    norms = drg_norms(stays)
    for stay in stays:
        los, group = stay.los_days, stay.group
        if (los is None or los > max_los or stay.procedures or stay.discharge_way != "1" or group is None
                or stay.total_fen is None or not stay.diagnoses):
            continue
        listed = bool(outpatient) and stay.diagnoses[0].startswith(outpatient)
        plain = params["medical_groups"] and group.medical and group.severity in ("5", "9")
        norm = norms.get(group.drg)
        if not (listed or plain) or norm is None or norm.size < least:
            continue
        limit = float(ratio) * norm.cost
        if stay.total_fen > limit:
            continue
        condition = (f"principal diagnosis {stay.diagnoses[0]} is on the outpatient-treatable list" if listed else
                     f"medical DRG {group.drg} without complications")
        yield Hit(stay, stay.total_fen,
                  f"{los}-day stay without procedure, discharged on medical advice, {condition}; cost "
                  f"{fen_text(stay.total_fen)} yuan; population: {norm.size} stays of DRG {group.drg} in this review, "
                  f"median cost {fen_text(int(norm.cost))}; threshold: at most {max_los} days and at most {ratio} x "
                  f"median = {fen_text(int(limit))} yuan")


# Conditions commonly treated in outpatient clinics (ICD-10 category or code prefixes).
OUTPATIENT_DX = ("J00", "J01", "J02", "J03", "J04", "J06", "J20", "A09", "K29", "K30", "K52", "I10", "E11.9",
                 "M54", "R51", "H10", "L30", "N39.0", "R10", "R50")

KINDS = (
    RuleKind("split_admission", Category.SPLIT_ADMISSION, Scope.PERSON,
             "the same person readmitted to the same hospital within window_days of discharge for a related "
             "condition",
             {"window_days": integer(15, "calendar days from discharge to readmission", 0, 90),
              "related": Param(ParamType.CHOICES, RELATED_DEFAULT,
                               "what makes conditions related: same ICD-10 category of the principal diagnoses, "
                               "the principal category among the other stay's diagnoses, same ADRG, same MDC, "
                               "principal diagnoses of the same ICD-10 chapter",
                               choices=RELATED_BY),
              "exempt_principal": Param(ParamType.CODES, (),
                                        "principal-diagnosis prefixes of readmissions a region plans and exempts "
                                        "(e.g. Z51.0, Z51.1 for radio- and chemotherapy courses); none by default, "
                                        "as CONTRACT's definition has no exemption")},
             check_group=split_admission),
    RuleKind("over_long_stay", Category.OVER_LONG_STAY, Scope.POPULATION,
             "a length of stay far above the median of the stay's DRG in the review",
             {"ratio": decimal("2.5", "multiple of the DRG's median length of stay", "1", "20"),
              "min_excess_days": integer(5, "days over the median at least", 0, 365),
              "min_population": integer(30, "stays of the DRG needed for a norm", 5, 100_000)},
             check_group=over_long_stay),
    RuleKind("low_standard_admission", Category.LOW_STANDARD_ADMISSION, Scope.POPULATION,
             "a short, cheap stay without procedure for a condition treatable as an outpatient",
             {"max_los": integer(2, "longest stay (days) considered", 1, 10),
              "cost_ratio": decimal("0.4", "multiple of the DRG's median cost at most", "0.01", "1"),
              "min_population": integer(30, "stays of the DRG needed for a norm", 5, 100_000),
              "outpatient_dx": Param(ParamType.CODES, OUTPATIENT_DX,
                                     "principal-diagnosis prefixes treatable as outpatients"),
              "medical_groups": Param(ParamType.BOOL, True,
                                      "also medical DRGs without complications (severity 5 or 9)")},
             check_group=low_standard_admission),
)
