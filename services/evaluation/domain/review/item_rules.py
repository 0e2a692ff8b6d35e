"""Item-level rules: restricted sex and age, duplicate charges, excessive daily quantity, unbundled pairs.

Each reads CONTRACT.md's definition literally: "same time" is the same ``fee_ocur_time`` to the second, "same
day" the calendar day of ``fee_ocur_time``, age the age at admission. Refund lines (negative ``cnt``) count: an
item charged and refunded on a day was not charged that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from libs.common.money import fen_text
from libs.national.fees import scaled_text

from .knowledge import KnowledgeItem
from .model import Category, FeeLine, Hit, LineRef, Stay
from .rules import Context, Params, RuleKind, Scope
from .view import StayView

SEX_WORD = {1: "male", 2: "female"}
ONLY_WORD = {1: "men", 2: "women"}
SN_SHOWN = 8


def _sns(lines: Iterable[FeeLine]) -> str:
    sns = [line.sn for line in lines]
    shown = ", ".join(sns[:SN_SHOWN])
    return shown + (f" and {len(sns) - SN_SHOWN} more" if len(sns) > SN_SHOWN else "")


def _label(item: KnowledgeItem) -> str:
    return f"{item.code} {item.name}".strip()


def _limited(view: StayView, items: Mapping[str, KnowledgeItem]) -> Iterator[tuple[KnowledgeItem, list[FeeLine]]]:
    """The stay's items among ``items`` (the library's items with one kind of limit), with their lines, in the
    order first charged."""
    for code, lines in view.by_code.items():
        item = items.get(code)
        if item is not None:
            yield item, lines


def _charged(lines: list[FeeLine]) -> int:
    """Net amount of the lines (refunds subtract); an item refunded in full was not charged."""
    return sum(line.amount for line in lines)


def restricted_sex(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    sex = view.stay.sex
    if sex not in (1, 2) or view.codes.isdisjoint(ctx.knowledge.not_for_sex(sex)):
        return
    for item, lines in _limited(view, ctx.knowledge.sex_limited):
        if item.sex_limit is None or item.sex_limit == sex:
            continue
        amount = _charged(lines)
        if sum(line.cnt for line in lines) <= 0:
            continue
        yield Hit(view.stay, amount,
                  f"{_label(item)} is for {ONLY_WORD[item.sex_limit]} only (knowledge library "
                  f"{ctx.knowledge.version}); the patient is {SEX_WORD[sex]}; charged {fen_text(amount)} yuan "
                  f"in {len(lines)} line(s) (feedetl_sn {_sns(lines)})",
                  tuple(LineRef(line.sn, 1, line.amount) for line in lines))


def restricted_age(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """Age at admission from the birth date; where the age the list or record states says otherwise, the stay is
    judged by both (the two contradict each other: either may be the true one, and each is on the record)."""
    stay = view.stay
    ages = _ages(stay)
    if not ages or all(view.codes.isdisjoint(ctx.knowledge.not_for_age(age)) for age in ages):
        return
    for item, lines in _limited(view, ctx.knowledge.age_limited):
        age = next((age for age in ages if not item.allows_age(age)), None)
        if age is None or sum(line.cnt for line in lines) <= 0:
            continue
        amount = _charged(lines)
        basis = (f"born {stay.birth}, admitted {stay.admitted.date()}" if age == stay.age_years and stay.birth
                 and stay.admitted else "as stated on the list")
        if len(ages) == 2:
            basis += (f"; the list states {stay.stated_age}" if age == stay.age_years else
                      f"; the birth date {stay.birth} gives {stay.age_years}")
        yield Hit(stay, amount,
                  f"{_label(item)} is limited to ages {item.age_limits()} (knowledge library "
                  f"{ctx.knowledge.version}); the patient is {age} at admission ({basis}); charged "
                  f"{fen_text(amount)} yuan in {len(lines)} line(s) (feedetl_sn {_sns(lines)})",
                  tuple(LineRef(line.sn, 1, line.amount) for line in lines))


def _ages(stay: Stay) -> tuple[int, ...]:
    """The patient's age at admission from the birth date and, where it differs, the age stated."""
    known, stated = stay.age_years, stay.stated_age
    if known is None:
        return () if stated is None else (stated,)
    return (known,) if stated is None or stated == known else (known, stated)


def duplicate_charge(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """The same item at the same time with the same quantity and price, more than once. A refund line that names
    the line it refunds (``init_feedetl_sn``) takes that line out; an anonymous refund cannot say which charge it
    undoes, so it takes none out (the day's net quantity still counts it)."""
    _, codes, _, times, cnts, prics, _ = view.columns
    if len(set(zip(codes, times, cnts, prics, strict=True))) == len(codes):  # every line unlike the others
        return
    first: dict[tuple[str, str, int, int], FeeLine] = {}
    again: dict[tuple[str, str, int, int], list[FeeLine]] = {}
    refunded = None
    for line in view.stay.details:
        if line.cnt <= 0:
            if line.refers_to:
                refunded = refunded or set()
                refunded.add(line.refers_to)
            continue
        key = (line.code, line.time, line.cnt, line.pric)
        if key in first:
            again.setdefault(key, [first[key]]).append(line)
        else:
            first[key] = line
    for (code, time, cnt, pric), lines in again.items():
        group = [line for line in lines if line.sn not in refunded] if refunded else lines
        if len(group) < 2:
            continue
        amount = sum(line.amount for line in group[1:])
        name = ctx.knowledge.name_of(code)
        yield Hit(view.stay, amount,
                  f"{code} {name}".strip() + f" charged {len(group)} times at {time} with cnt {scaled_text(cnt)} "
                  f"and pric {scaled_text(pric)} (feedetl_sn {_sns(group)}); {fen_text(amount)} yuan charged again",
                  tuple(LineRef(line.sn, 2 if i == 0 else 1, line.amount) for i, line in enumerate(group)))


def excessive_quantity(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """A day's net quantity of an item above its ``max_daily_cnt``. One pass over the stay's lines sums the capped
    items per calendar day (the hot rule of a batch: nearly every drug has a cap); items in the order first
    charged, days in order."""
    caps = ctx.knowledge.daily_caps
    _, codes, _, times, cnts, _, _ = view.columns
    counts: dict[tuple[str, str], int] = {}
    get = counts.get
    for code, time, cnt in zip(codes, times, cnts, strict=True):
        if code in caps:
            key = (code, time[:10])
            counts[key] = get(key, 0) + cnt
    over = [(key, count) for key, count in counts.items() if count > caps[key[0]]]
    if not over:
        return
    first = {code: n for n, code in enumerate(dict.fromkeys(code for code, _ in counts))}
    items = ctx.knowledge.items
    for (code, day), count in sorted(over, key=lambda o: (first[o[0][0]], o[0][1])):
        item, cap = items[code], caps[code]
        lines = view.day_lines(code, day)
        excess, day_amount = count - cap, sum(line.amount for line in lines)
        amount = day_amount * excess // count
        yield Hit(view.stay, amount,
                  f"{_label(item)}: {scaled_text(count)} on {day}, above the daily maximum {scaled_text(cap)} of "
                  f"the knowledge library {ctx.knowledge.version}; {scaled_text(excess)} too many, "
                  f"{fen_text(amount)} yuan (feedetl_sn {_sns(lines)})",
                  tuple(LineRef(line.sn, 1, line.amount) for line in lines))


def unbundled_charge(view: StayView, ctx: Context, params: Params) -> Iterator[Hit]:
    """An item and one of its ``exclusive_with`` items charged on the same day; the cheaper of the two is the part
    the other includes, so its amount is what is at stake."""
    exclusive = ctx.knowledge.exclusive
    here = view.codes & ctx.knowledge.exclusive_codes
    if len(here) < 2 or all(exclusive[code].isdisjoint(here) for code in here):  # no pair charged in the stay
        return
    present = [code for code in view.by_code if code in exclusive]
    for code in sorted(present):
        partners = exclusive[code]
        for other in sorted(present):
            if other <= code or other not in partners:
                continue
            mine, theirs = view.day_counts(code), view.day_counts(other)
            for day in sorted(mine.keys() & theirs.keys()):
                if mine[day] <= 0 or theirs[day] <= 0:
                    continue
                a, b = view.day_lines(code, day), view.day_lines(other, day)
                (part_code, part), (whole_code, whole) = sorted(
                    ((code, a), (other, b)), key=lambda x: (sum(line.amount for line in x[1]), x[0]))
                part_amount = sum(line.amount for line in part)
                yield Hit(view.stay, part_amount,
                          f"{part_code} {ctx.knowledge.name_of(part_code)} and {whole_code} "
                          f"{ctx.knowledge.name_of(whole_code)} both charged on {day}; the knowledge library "
                          f"{ctx.knowledge.version} marks them exclusive (one includes the other): "
                          f"{fen_text(part_amount)} yuan charged separately (feedetl_sn {_sns(part)} with "
                          f"{_sns(whole)})",
                          tuple([LineRef(line.sn, 1, line.amount) for line in part]
                                + [LineRef(line.sn, 2, line.amount) for line in whole]))


KINDS = (
    RuleKind("restricted_sex", Category.RESTRICTED_SEX, Scope.STAY,
             "an item the knowledge library limits to one sex, charged for a patient of the other",
             check_stay=restricted_sex),
    RuleKind("restricted_age", Category.RESTRICTED_AGE, Scope.STAY,
             "an item charged outside the knowledge library's age limits (age at admission)",
             check_stay=restricted_age),
    RuleKind("duplicate_charge", Category.DUPLICATE_CHARGE, Scope.STAY,
             "the same item charged more than once at the same time with the same quantity and price",
             check_stay=duplicate_charge),
    RuleKind("excessive_quantity", Category.EXCESSIVE_QUANTITY, Scope.STAY,
             "a day's net quantity of an item above the knowledge library's max_daily_cnt",
             check_stay=excessive_quantity),
    RuleKind("unbundled_charge", Category.UNBUNDLED_CHARGE, Scope.STAY,
             "an item and one of its exclusive_with items charged on the same day",
             check_stay=unbundled_charge),
)
