"""Data-quality rules: the list or its fee details contradict themselves (fees vs details, codes, dates)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from operator import eq, mul

from libs.common.icd10 import sex_conflict
from libs.common.money import fen_text
from libs.national.fees import FEN_UNITS, amount_matches, scaled_text

from .model import Category, Hit, LineRef
from .rules import Context, Params, RuleKind, Scope, integer
from .view import StayView

SHOWN = 5


def _more(count: int) -> str:
    return f" and {count - SHOWN} more" if count > SHOWN else ""


def detail_amounts(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """Every fee line readable, and its amount ``cnt x pric`` to the fen."""
    problems = view.stay.detail_problems
    _, _, _, _, cnts, prics, amounts = view.columns
    if not problems and all(map(eq, map(mul, cnts, prics), map(FEN_UNITS.__mul__, amounts))):
        return  # every amount exactly cnt x pric (the common case, checked in C)
    wrong = [line for line in view.stay.details
             if line.cnt * line.pric != line.amount * FEN_UNITS and not amount_matches(line)]
    if not wrong and not problems:
        return
    parts = []
    if wrong:
        shown = "; ".join(f"sn {line.sn}: {scaled_text(line.cnt)} x {scaled_text(line.pric)} charged "
                          f"{fen_text(line.amount)}" for line in wrong[:SHOWN])
        parts.append(f"{len(wrong)} fee line(s) whose amount is not cnt x pric ({shown}{_more(len(wrong))})")
    if problems:
        parts.append(f"{len(problems)} fee line(s) unreadable ({'; '.join(problems[:SHOWN])}{_more(len(problems))})")
    at_stake = sum(max(0, line.amount - line.cnt * line.pric // 10**10) for line in wrong)
    yield Hit(view.stay, at_stake, "; ".join(parts), tuple(LineRef(line.sn, 1, line.amount) for line in wrong))


def details_vs_list(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """The fee details sum to the list's fee categories (``iteminfo``), or, for a HIS-form list without them, to
    the settlement record's total."""
    stay = view.stay
    if not stay.has_details:
        return
    by_category: dict[str, int] = {}
    get = by_category.get
    _, _, categories, _, _, _, amounts = view.columns
    for category, amount in zip(categories, amounts, strict=True):
        by_category[category] = get(category, 0) + amount
    details_total = sum(by_category.values())
    if stay.category_fen is not None:
        listed: dict[str, int] = {}
        for category, amount in stay.category_fen:
            listed[category] = listed.get(category, 0) + amount
        differing = sorted(c for c in listed.keys() | by_category.keys()
                           if listed.get(c, 0) != by_category.get(c, 0))
        if not differing:
            return
        shown = "; ".join(f"{c}: details {fen_text(by_category.get(c, 0))}, list {fen_text(listed.get(c, 0))}"
                          for c in differing[:SHOWN])
        gap = details_total - sum(listed.values())
        yield Hit(stay, max(gap, 0), f"fee details differ from the list's fee categories (iteminfo) in "
                  f"{len(differing)} categor{'y' if len(differing) == 1 else 'ies'}: {shown}{_more(len(differing))};"
                  f" details total {fen_text(details_total)}, list total {fen_text(sum(listed.values()))}")
    elif stay.total_fen is not None and details_total != stay.total_fen:
        gap = details_total - stay.total_fen
        yield Hit(stay, max(gap, 0), f"fee details total {fen_text(details_total)} but the settlement record's "
                  f"medfee_sumamt is {fen_text(stay.total_fen)} (difference {fen_text(gap)})")


def fee_dates(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """Fee lines dated outside the stay (before admission or after discharge, by calendar day)."""
    stay = view.stay
    if stay.admitted is None:
        return
    grace = timedelta(days=params["grace_days"])
    first = f"{stay.admitted.date() - grace} 00:00:00"
    last = f"{stay.discharged.date() + grace} 23:59:59" if stay.discharged else "9999-12-31 23:59:59"
    times = view.columns[3]
    if not times or (first <= min(times) and max(times) <= last):
        return
    outside = [line for line in stay.details if not first <= line.time <= last]
    if not outside:
        return
    shown = ", ".join(f"sn {line.sn} at {line.time}" for line in outside[:SHOWN])
    window = f"{stay.admitted.date()} to {stay.discharged.date() if stay.discharged else 'now'}"
    yield Hit(stay, sum(max(line.amount, 0) for line in outside),
              f"{len(outside)} fee line(s) dated outside the stay {window}: {shown}{_more(len(outside))}",
              tuple(LineRef(line.sn, 1, line.amount) for line in outside))


def list_consistency(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """The list against itself and the code standards: dates in order, diagnoses of the patient's sex, codes of
    ICD-10 / ICD-9-CM3 医保版 2.0 (when the code tables are at hand)."""
    stay = view.stay
    found = []
    if stay.admitted and stay.discharged and stay.discharged < stay.admitted:
        found.append(f"discharge {stay.discharged} is before admission {stay.admitted}")
    for code in stay.diagnoses:
        conflict = sex_conflict(code, stay.sex)
        if conflict:
            found.append(f"diagnosis {conflict}")
    if ctx.diagnoses is not None:
        unknown = [code for code in stay.diagnoses if code not in ctx.diagnoses]
        if unknown:
            found.append(f"diagnosis code(s) {', '.join(unknown)} not in ICD-10 医保版 2.0")
    if ctx.procedures is not None:
        unknown = [code for code in stay.procedures if code not in ctx.procedures]
        if unknown:
            found.append(f"procedure code(s) {', '.join(unknown)} not in ICD-9-CM3 医保版 2.0")
    if found:
        yield Hit(stay, 0, "; ".join(found))


KINDS = (
    RuleKind("detail_amounts", Category.DATA_QUALITY, Scope.STAY,
             "fee lines unreadable, or whose amount is not cnt x pric", check_stay=detail_amounts),
    RuleKind("details_vs_list", Category.DATA_QUALITY, Scope.STAY,
             "fee details not summing to the list's fee categories (or the settlement record's total)",
             check_stay=details_vs_list),
    RuleKind("fee_dates", Category.DATA_QUALITY, Scope.STAY, "fee lines dated outside the stay",
             {"grace_days": integer(0, "days before admission and after discharge still accepted", 0, 30)},
             check_stay=fee_dates),
    RuleKind("list_consistency", Category.DATA_QUALITY, Scope.STAY,
             "dates out of order, diagnoses of the other sex, codes outside 医保版 2.0", check_stay=list_consistency),
)
