"""An outside grader's injector for smart review: deterministic violations planted into a clean synthetic year.

It takes `medpay synth` output as a *base* only (its lists, settlement records, fee details and items.csv; the
stays its truth file leaves clean) and plants each deterministic category of ../shared/review/CONTRACT.md the way
someone reading nothing but CONTRACT and PRIMER section 6 might, in several variants each. It shares no code with
the project's synth injection or with the review rules: it reads the JSON files as plain dicts.

- split_admission: a second stay re-homed to the same person and hospital, admitted 0-15 calendar days after the
  first one's discharge date, its principal diagnosis related as the same code, the same 3-character category, the
  same ADRG, the same MDC, or the same ICD-10 chapter (letter); both stays may be flagged, the readmission must be;
- restricted_sex: a sex-limited item on a patient of the other sex (one line, several days, at the admission
  instant, an existing line recoded, the patient fields on the list itself);
- restricted_age: an age-limited item with the age at admission just outside the limit (birthday on the admission
  day, the day after it, or months away), the birth date and/or the stated age carrying it (or the stated age
  alone changed, the birth date left as it was);
- duplicate_charge: a line charged again with the same item, time, quantity and price (appended, adjacent, in a
  second 2301 request, spelled "2.0"/"12.5" instead of "2"/"12.50", three times, copied with its feedetl_sn);
- excessive_quantity: a day's quantity above ``max_daily_cnt``, in one line or split over several lines of the
  day (whole or fractional excess, on top of the item's existing lines);
- unbundled_charge: an item and one of its ``exclusive_with`` items on the same day, either order, at different
  times of day (00:00:00 and 23:59:59 included), the partner added to an item already charged, or a partner
  that ``exclusive_with`` names but that has no row of its own.

A share of the stays, planted and clean, have their details uploaded day by day (several 2301 requests, the
later ones at the end of the file), and the lists are written in shuffled order.

Clean traps (lists that look suspicious but are not violations by CONTRACT's words) are planted too and counted
with the clean lists: the right sex, the age exactly at the limit (and a birthday during the stay), the same item
at the same time with another quantity, a day's total exactly at the cap, caps and exclusive pairs across
midnight, readmissions after 16 days, at another hospital, or for an unrelated condition.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

DETERMINISTIC = ("split_admission", "restricted_sex", "restricted_age", "duplicate_charge", "excessive_quantity",
                 "unbundled_charge")
TIME = "%Y-%m-%d %H:%M:%S"
Json = dict[str, Any]


def _t(text: str) -> datetime:
    return datetime.strptime(text[:19].replace("T", " "), TIME)


def _s(moment: datetime) -> str:
    return moment.strftime(TIME)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Item:
    code: str
    category: str
    price: Decimal
    sex: int | None
    min_age: int | None
    max_age: int | None
    cap: Decimal | None
    exclusive: tuple[str, ...]

    def allows(self, sex: int | None, age: int | None) -> bool:
        if self.sex is not None and sex is not None and sex != self.sex:
            return False
        if age is None:
            return True
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)


@dataclass
class Stay:
    """One list with its settlement record and 2301 request (the dicts as read, changed in place)."""

    listing: Json
    record: Json | None
    request: Json | None
    adrg: str
    mdc: str

    @property
    def s(self) -> Json:
        return dict(self.listing["input"]["setlinfo"])

    @property
    def info(self) -> Json:
        return self.listing["input"]["setlinfo"]  # type: ignore[no-any-return]

    @property
    def setl_id(self) -> str:
        return str(self.info["setl_id"])

    @property
    def hospital(self) -> str:
        return str(self.listing["fixmedins_code"])

    @property
    def psn_no(self) -> str:
        return str(self.info["psn_no"])

    @property
    def admitted(self) -> datetime:
        return _t(self.info["adm_time"])

    @property
    def discharged(self) -> datetime:
        return _t(self.info["dscg_time"])

    @property
    def lines(self) -> list[Json]:
        return self.request["input"]["feedetail"] if self.request else []  # type: ignore[no-any-return]

    @property
    def principal(self) -> str:
        main = [d for d in self.listing["input"]["diseinfo"] if str(d.get("maindiag_flag")) == "1"]
        return str(main[0]["diag_code"]) if main else ""

    @property
    def diagnoses(self) -> list[str]:
        return [str(d["diag_code"]) for d in self.listing["input"]["diseinfo"] if d.get("diag_code")]

    def _patient(self) -> Json:
        return self.record["setlinfo"] if self.record else self.info  # type: ignore[no-any-return]

    @property
    def sex(self) -> int | None:
        value = str(self.info.get("gend") or self._patient().get("gend") or "")
        return int(value) if value in ("1", "2") else None

    @property
    def birth(self) -> date | None:
        value = str(self.info.get("brdy") or self._patient().get("brdy") or "")
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None

    @property
    def age(self) -> int | None:
        birth = self.birth
        return _age(birth, self.admitted.date()) if birth else None


@dataclass
class Injected:
    """What was planted: per category the lists that must be flagged, the lists involved (a split's first stay),
    and the clean traps; variants per list for the report."""

    planted: dict[str, dict[str, str]] = field(default_factory=lambda: {c: {} for c in DETERMINISTIC})
    involved: set[str] = field(default_factory=set)
    traps: dict[str, str] = field(default_factory=dict)  # setl_id -> trap name (clean)

    def touched(self) -> set[str]:
        return {s for by in self.planted.values() for s in by} | self.involved


class Injector:
    def __init__(self, base: Path, rng: random.Random, icd: Path | None = None) -> None:
        self.rng = rng
        self.base = base
        truth = {row["setl_id"]: row for row in map(orjson.loads, (base / "truth.jsonl").read_bytes().splitlines())}
        self.record_lines = [orjson.loads(line) for line in (base / "settlement_records.jsonl").read_bytes()
                             .splitlines()]
        records = {r["setlinfo"]["setl_id"]: r for r in self.record_lines if r.get("infno") == "2304"}
        self.requests = [orjson.loads(line) for line in (base / "fee_details.jsonl").read_bytes().splitlines()]
        by_mdtrt = {(r["fixmedins_code"], r["input"]["feedetail"][0]["mdtrt_id"]): r for r in self.requests
                    if r["input"]["feedetail"]}
        self.stays: list[Stay] = []
        for line in (base / "settlement_lists.jsonl").read_bytes().splitlines():
            listing = orjson.loads(line)
            s = listing["input"]["setlinfo"]
            t = truth.get(s["setl_id"], {})
            self.stays.append(Stay(listing, records.get(s["setl_id"]), by_mdtrt.get((listing["fixmedins_code"],
                                                                                     s["mdtrt_id"])),
                                   t.get("intended_adrg", ""), t.get("intended_mdc", "")))
        with (base / "knowledge" / "items.csv").open(encoding="utf-8", newline="") as handle:
            self.item_rows = list(csv.DictReader(handle))
        self.items = {r["code"]: Item(r["code"], r["med_chrgitm_type"], Decimal(r["price"] or "0"),
                                      int(r["sex_limit"]) if r["sex_limit"] else None,
                                      int(r["min_age"]) if r["min_age"] else None,
                                      int(r["max_age"]) if r["max_age"] else None,
                                      Decimal(r["max_daily_cnt"]) if r["max_daily_cnt"] else None,
                                      tuple(c for c in r["exclusive_with"].split(";") if c))
                      for r in self.item_rows}
        self.pairs = sorted({(a.code, b) for a in self.items.values() for b in a.exclusive if b in self.items})
        partners = {c for pair in self.pairs for c in pair}
        self.plain_capped = [i for i in self.items.values() if i.cap is not None and i.sex is None
                             and i.min_age is None and i.max_age is None and i.code not in partners]
        people: dict[tuple[str, str], int] = defaultdict(int)
        for stay in self.stays:
            people[(stay.hospital, stay.psn_no)] += 1
        # the pool: lists synth left clean (no behaviour, no fault, no record story), with details and a record,
        # of a person with no other stay at that hospital (a planted readmission then pairs with one stay only)
        self.pool = [st for st in self.stays if st.request and st.record and st.sex and st.birth
                     and not (t := truth.get(st.setl_id, {})).get("behaviours") and not t.get("faults")
                     and not t.get("record_story") and not t.get("reversed_setl_ids") and not t.get("related_setl_id")
                     and people[(st.hospital, st.psn_no)] == 1 and st.discharged > st.admitted]
        self.rng.shuffle(self.pool)
        self.used: set[str] = set()
        self.out = Injected()
        self.extra_requests: list[Json] = []
        self.by_day: set[int] = set()  # ids of the requests uploaded day by day
        self.codes3 = self._icd_siblings(icd) if icd else {}

    # ---- plumbing ---------------------------------------------------------------------------------------------
    @staticmethod
    def _icd_siblings(path: Path) -> dict[str, list[str]]:
        siblings: dict[str, list[str]] = defaultdict(list)
        for row in path.read_text(encoding="utf-8").splitlines()[1:]:
            code = row.split("\t", 1)[0]
            siblings[code[:3]].append(code)
        return siblings

    def take(self, want: Any = None) -> Stay | None:
        for stay in self.pool:
            if stay.setl_id not in self.used and (want is None or want(stay)):
                self.used.add(stay.setl_id)
                return stay
        return None

    def add_line(self, stay: Stay, code: str, when: datetime, cnt: Decimal | str, *, at: int | None = None,
                 pric: str | None = None) -> Json:
        item = self.items.get(code)
        template = stay.lines[0]
        sn = 1 + max(int(str(line["feedetl_sn"])) for line in stay.lines if str(line["feedetl_sn"]).isdigit())
        price = Decimal(pric) if pric is not None else item.price if item else Decimal("1.00")
        count = Decimal(str(cnt))
        cnt = f"{count.normalize():f}" if isinstance(cnt, Decimal) else cnt
        line = {**template, "feedetl_sn": str(sn), "fee_ocur_time": _s(when), "med_list_codg": code,
                "medins_list_codg": f"Q{code[-6:]}", "med_chrgitm_type": item.category if item else "09",
                "cnt": str(cnt), "pric": pric if pric is not None else _money(price),
                "det_item_fee_sumamt": _money(count * price)}
        stay.lines.insert(len(stay.lines) if at is None else at, line)
        return line

    def day_total(self, stay: Stay, code: str, day: date) -> Decimal:
        return sum((Decimal(str(line["cnt"])) for line in stay.lines
                    if line["med_list_codg"] == code and str(line["fee_ocur_time"])[:10] == day.isoformat()),
                   Decimal(0))

    def days(self, stay: Stay) -> list[date]:
        first, last = stay.admitted.date(), stay.discharged.date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def inner_day(self, stay: Stay) -> date:
        """A day wholly inside the stay where there is one, else the admission day."""
        days = self.days(stay)
        return self.rng.choice(days[1:-1]) if len(days) > 2 else days[0]

    def moment(self, stay: Stay, day: date, clock: str | None = None) -> datetime:
        """A time on ``day`` inside the stay (``clock`` "HH:MM:SS" when it is inside, else clamped)."""
        start = max(stay.admitted, datetime.combine(day, datetime.min.time()))
        end = min(stay.discharged, datetime.combine(day, datetime.max.time()).replace(microsecond=0))
        if clock:
            wanted = datetime.combine(day, datetime.strptime(clock, "%H:%M:%S").time())
            if start <= wanted <= end:
                return wanted
        return start + timedelta(seconds=self.rng.randint(0, max(int((end - start).total_seconds()), 0)))

    def fits(self, stay: Stay, sex: int | None, age: int | None) -> bool:
        """Whether every sex- or age-limited item the stay has would allow this patient."""
        return all(self.items[line["med_list_codg"]].allows(sex, age) for line in stay.lines
                   if line["med_list_codg"] in self.items)

    def over_caps(self, stay: Stay) -> bool:
        totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for line in stay.lines:
            totals[(line["med_list_codg"], str(line["fee_ocur_time"])[:10])] += Decimal(str(line["cnt"]))
        return any((item := self.items.get(code)) is not None and item.cap is not None and total > item.cap
                   for (code, _), total in totals.items())

    def clean_add(self, stay: Stay, item: Item, when: datetime) -> bool:
        """One charge of ``item`` for a trap, unless it would take the day over the item's cap (then none)."""
        if item.cap is not None and self.day_total(stay, item.code, when.date()) + 1 > item.cap:
            return False
        self.add_line(stay, item.code, when, "1")
        return True

    def plant(self, category: str, stay: Stay, variant: str) -> None:
        self.out.planted[category][stay.setl_id] = variant

    def trap(self, stay: Stay, name: str) -> None:
        self.out.traps[stay.setl_id] = name

    # ---- restricted sex ---------------------------------------------------------------------------------------
    def restricted_sex(self, n: int) -> None:
        limited = [i for i in self.items.values() if i.sex is not None]
        variants = ("one_line", "several_days", "at_admission", "recoded_line", "fields_on_list")
        for k in range(n):
            stay = self.take()
            if stay is None:
                return
            variant = variants[k % len(variants)]
            item = self.rng.choice([i for i in limited if i.sex != stay.sex])
            if variant == "several_days":
                for day in self.rng.sample(self.days(stay), min(3, len(self.days(stay)))):
                    self.add_line(stay, item.code, self.moment(stay, day), "1")
            elif variant == "at_admission":
                self.add_line(stay, item.code, stay.admitted, "1")
            elif variant == "recoded_line":
                line = self.rng.choice([ln for ln in stay.lines if Decimal(str(ln["cnt"])) > 0])
                line.update(med_list_codg=item.code, med_chrgitm_type=item.category, pric=_money(item.price),
                            det_item_fee_sumamt=_money(Decimal(str(line["cnt"])) * item.price))
            else:
                if variant == "fields_on_list":
                    self._patient_on_list(stay)
                self.add_line(stay, item.code, self.moment(stay, self.inner_day(stay)), "1")
            self.plant("restricted_sex", stay, variant)
        for _ in range(n // 4):  # traps: the item on the right sex
            stay = self.take()
            if stay is None:
                return
            item = self.rng.choice([i for i in limited if i.sex == stay.sex and i.allows(stay.sex, stay.age)])
            if self.clean_add(stay, item, self.moment(stay, self.inner_day(stay))):
                self.trap(stay, "sex_right")

    def _patient_on_list(self, stay: Stay) -> None:
        patient = stay._patient()
        for key in ("gend", "brdy", "age"):
            stay.info[key] = patient.get(key, "")

    # ---- restricted age ---------------------------------------------------------------------------------------
    def _set_birth(self, stay: Stay, birth: date | None, age: int | None) -> None:
        patient = stay._patient()
        patient["brdy"] = birth.isoformat() if birth else ""
        patient["age"] = "" if age is None else str(age)
        for key in ("brdy", "age"):
            if key in stay.info:
                stay.info[key] = patient[key]

    def restricted_age(self, n: int) -> None:
        limited = [i for i in self.items.values() if i.min_age is not None or i.max_age is not None]
        births = ("birthday_on_admission", "birthday_after_admission", "months_away")
        carriers = ("birth_and_age", "birth_only", "age_only", "fields_on_list", "age_field_changed")
        for k in range(n):
            item = limited[k % len(limited)]
            birthday, carrier = births[k % len(births)], carriers[(k // len(births)) % len(carriers)]
            if item.max_age is not None and (item.min_age is None or k % 2):
                age = item.max_age + 1
            else:
                assert item.min_age is not None
                if item.min_age == 0:
                    continue
                age = item.min_age - 1
            stay = self.take(lambda st, item=item: item.sex in (None, st.sex))
            if stay is None:
                return
            day = stay.admitted.date()
            if birthday == "birthday_on_admission":
                birth = _years_before(day, age)
            elif birthday == "birthday_after_admission":
                birth = _years_before(day + timedelta(days=1), age + 1)  # one year older the next day
            else:
                birth = _years_before(day, age) - timedelta(days=self.rng.randint(30, 300))
            assert _age(birth, day) == age, (birth, day, age)
            if carrier == "age_field_changed":  # only the stated age says it; the birth date left as it was
                stay._patient()["age"] = str(age)
                if "age" in stay.info:
                    stay.info["age"] = str(age)
            else:
                self._set_birth(stay, None if carrier == "age_only" else birth,
                                None if carrier == "birth_only" else age)
            if carrier == "fields_on_list":
                self._patient_on_list(stay)
            self.add_line(stay, item.code, self.moment(stay, self.inner_day(stay)), "1")
            self.plant("restricted_age", stay, f"{birthday}/{carrier}")
        for k in range(n // 3):  # traps: the age exactly at the limit at admission, a birthday during the stay
            item = limited[k % len(limited)]
            stay = self.take(lambda st, item=item: item.sex in (None, st.sex) and st.discharged.date()
                             > st.admitted.date())
            if stay is None:
                return
            day = stay.admitted.date()
            if item.max_age is not None:  # at the maximum on admission, one more the day after
                age, birth = item.max_age, _years_before(day + timedelta(days=1), item.max_age + 1)
            else:
                assert item.min_age is not None
                age, birth = item.min_age, _years_before(day, item.min_age)
            if _age(birth, day) != age or not self.fits(stay, stay.sex, age):
                continue
            self._set_birth(stay, birth, age)
            if self.clean_add(stay, item, self.moment(stay, self.inner_day(stay))):
                self.trap(stay, "age_at_limit")

    # ---- duplicate charge -------------------------------------------------------------------------------------
    def duplicate_charge(self, n: int) -> None:
        variants = ("appended", "adjacent", "second_request", "respelled", "three_times", "verbatim_copy")
        for k in range(n):
            stay = self.take()
            if stay is None:
                return
            variant = variants[k % len(variants)]
            positions = [i for i, ln in enumerate(stay.lines) if Decimal(str(ln["cnt"])) > 0]
            at = self.rng.choice(positions)
            line = dict(stay.lines[at])
            sn = 1 + max(int(str(ln["feedetl_sn"])) for ln in stay.lines if str(ln["feedetl_sn"]).isdigit())
            copy = {**line, "feedetl_sn": str(sn) if variant != "verbatim_copy" else line["feedetl_sn"]}
            if variant == "adjacent":
                stay.lines.insert(at + 1, copy)
            elif variant == "second_request":
                assert stay.request is not None
                self.extra_requests.append({**stay.request, "msgid": stay.request["msgid"][:-4] + "9999",
                                            "input": {"feedetail": [copy]}})
            elif variant == "respelled":
                cnt, pric = Decimal(str(line["cnt"])), Decimal(str(line["pric"]))
                copy.update(cnt=f"{cnt:.2f}" if cnt == cnt.to_integral_value() else f"{cnt}0",
                            pric=f"{pric.normalize():f}", det_item_fee_sumamt=_money(cnt * pric))
                stay.lines.append(copy)
            else:
                stay.lines.append(copy)
                if variant == "three_times":
                    stay.lines.append({**line, "feedetl_sn": str(sn + 1)})
            self.plant("duplicate_charge", stay, variant)
        for _ in range(n // 4):  # traps: same item and time with another quantity (within the daily cap)
            stay = self.take()
            if stay is None:
                return
            line = self.rng.choice([ln for ln in stay.lines if Decimal(str(ln["cnt"])) > 0])
            item = self.items.get(line["med_list_codg"])
            when = _t(line["fee_ocur_time"])
            cnt = Decimal(str(line["cnt"]))
            other = cnt + 1
            if item is not None and item.cap is not None and \
                    self.day_total(stay, item.code, when.date()) + other > item.cap:
                continue
            self.add_line(stay, line["med_list_codg"], when, str(other), pric=str(line["pric"]))
            self.trap(stay, "same_time_other_quantity")

    # ---- excessive quantity -----------------------------------------------------------------------------------
    def excessive_quantity(self, n: int) -> None:
        variants = ("one_line", "split_lines", "fraction_over", "on_existing_item", "split_lines_existing")
        for k in range(n):
            variant = variants[k % len(variants)]
            stay = self.take()
            if stay is None:
                return
            if self.over_caps(stay):
                continue  # synth's own clean list over a cap: not ours to plant
            day = self.inner_day(stay)
            charged = [ln["med_list_codg"] for ln in stay.lines if ln["med_list_codg"] in self.items
                       and self.items[ln["med_list_codg"]].cap is not None
                       and self.items[ln["med_list_codg"]].allows(stay.sex, stay.age)]
            if variant.endswith("existing") and charged:
                item = self.items[self.rng.choice(charged)]
                line = next(ln for ln in stay.lines if ln["med_list_codg"] == item.code)
                day = _t(line["fee_ocur_time"]).date()
            else:
                item = self.rng.choice(self.plain_capped)
            assert item.cap is not None
            have = self.day_total(stay, item.code, day)
            excess = Decimal("0.5") if variant == "fraction_over" else Decimal(1)
            need = item.cap - have + excess
            if need <= 0:
                continue
            parts = [need] if variant in ("one_line", "fraction_over", "on_existing_item") else \
                self._split(need, self.rng.randint(2, 4))
            clocks = ["00:00:00", "08:30:00", "14:15:00", "23:59:59"]
            for i, part in enumerate(parts):
                self.add_line(stay, item.code, self.moment(stay, day, clocks[i % 4]), part)
            self.plant("excessive_quantity", stay, variant)
        for k in range(n // 3):  # traps: exactly the cap in several lines; the cap on two days across midnight
            stay = self.take(lambda st: len(self.days(st)) >= 3)
            if stay is None:
                return
            item = self.rng.choice(self.plain_capped)
            assert item.cap is not None
            day = self.days(stay)[1]
            if self.over_caps(stay) or any(self.day_total(stay, item.code, d) for d in (day, day + timedelta(1))):
                continue
            if k % 2:
                for part, clock in zip(self._split(item.cap, 2), ("07:00:00", "19:00:00"), strict=False):
                    self.add_line(stay, item.code, self.moment(stay, day, clock), part)
                self.trap(stay, "cap_exactly")
            else:
                self.add_line(stay, item.code, datetime.combine(day, datetime.min.time()).replace(
                    hour=23, minute=59, second=59), item.cap)
                self.add_line(stay, item.code, datetime.combine(day + timedelta(1), datetime.min.time()),
                              item.cap)
                self.trap(stay, "cap_across_midnight")

    @staticmethod
    def _split(total: Decimal, k: int) -> list[Decimal]:
        """``total`` in ``k`` positive parts (halves where it does not divide)."""
        unit = Decimal("0.5") if total % 1 else Decimal(1)
        units = int(total / unit)
        k = max(1, min(k, units))
        base, rest = divmod(units, k)
        return [unit * (base + (1 if i < rest else 0)) for i in range(k)]

    # ---- unbundled charge -------------------------------------------------------------------------------------
    def unbundled_charge(self, n: int) -> None:
        variants = ("listed_first_morning", "partner_first_evening", "midnight_edges", "partner_of_existing",
                    "file_order_reversed", "partner_not_in_library")
        # CONTRACT: exclusive_with lists codes; a code listed there need not have a row of its own
        row = next(r for r in self.item_rows if not r["exclusive_with"] and r["code"] in self.items)
        unlisted = "000501009990000"
        row["exclusive_with"] = unlisted
        for k in range(n):
            variant = variants[k % len(variants)]
            stay = self.take()
            if stay is None:
                return
            a, b = (row["code"], unlisted) if variant == "partner_not_in_library" else self.rng.choice(self.pairs)
            day = self.inner_day(stay)
            existing = [(ln, p) for ln in stay.lines for p in self.pairs if ln["med_list_codg"] in p]
            if variant == "partner_of_existing" and existing:
                line, (x, y) = self.rng.choice(existing)
                other = y if line["med_list_codg"] == x else x
                when = _t(line["fee_ocur_time"])
                self.add_line(stay, other, self.moment(stay, when.date()), "1")
            elif variant == "midnight_edges":
                self.add_line(stay, a, self.moment(stay, day, "00:00:00"), "1")
                self.add_line(stay, b, self.moment(stay, day, "23:59:59"), "1")
            elif variant in ("partner_first_evening", "file_order_reversed"):
                self.add_line(stay, b, self.moment(stay, day, "06:10:00"), "1")
                self.add_line(stay, a, self.moment(stay, day, "21:40:00"), "1",
                              at=0 if variant == "file_order_reversed" else None)
            else:
                self.add_line(stay, a, self.moment(stay, day, "08:00:00"), "1")
                self.add_line(stay, b, self.moment(stay, day, "20:00:00"), "1")
            self.plant("unbundled_charge", stay, variant)
        for _ in range(n // 4):  # traps: the pair on consecutive days, across midnight
            stay = self.take(lambda st: len(self.days(st)) >= 3)
            if stay is None:
                return
            a, b = self.rng.choice(self.pairs)
            day = self.days(stay)[1]
            near = {c for pair in self.pairs if a in pair or b in pair for c in pair}
            if any(ln["med_list_codg"] in near for ln in stay.lines):
                continue
            self.add_line(stay, a, datetime.combine(day, datetime.min.time()).replace(hour=23, minute=59,
                                                                                      second=59), "1")
            self.add_line(stay, b, datetime.combine(day + timedelta(1), datetime.min.time()), "1")
            self.trap(stay, "pair_on_consecutive_days")

    # ---- split admission --------------------------------------------------------------------------------------
    def split_admission(self, n: int) -> None:
        ways = ("same_code", "same_dx3", "same_adrg", "same_mdc", "same_chapter")
        for k in range(n):
            way = ways[k % len(ways)]
            gap = (0, 15, *range(1, 15))[k % 16] if k < 32 else self.rng.randint(0, 15)
            first = self.take(lambda st: st.principal and st.adrg)
            if first is None:
                return
            related = self._related(first, way)
            second = self.take(lambda st, related=related, first=first, gap=gap: related(st) and (
                gap > 0 or st.admitted.time() > first.discharged.time()))
            if second is None:
                self.used.discard(first.setl_id)
                continue
            if way == "same_code":
                self._set_principal(second, first.principal)
            elif way == "same_dx3":
                siblings = [c for c in self.codes3.get(first.principal[:3], []) if c != first.principal]
                self._set_principal(second, self.rng.choice(siblings) if siblings else first.principal)
            self._readmit(first, second, gap)
            self.plant("split_admission", second, f"{way}/gap{gap}")
            self.out.involved.add(first.setl_id)
        for k in range(n // 3):  # traps: back after 16+ days; at another hospital; for an unrelated condition
            trap = ("after_16_days", "other_hospital", "unrelated")[k % 3]
            first = self.take(lambda st: st.principal and st.adrg)
            if first is None:
                return
            want = self._unrelated(first) if trap == "unrelated" else self._related(first, "same_adrg")
            second = self.take(lambda st, want=want, first=first: want(st) and st.sex == first.sex
                               and self.fits(st, first.sex, first.age) and st.admitted.time() >
                               first.discharged.time())
            if second is None:
                self.used.discard(first.setl_id)
                continue
            gap = self.rng.randint(16, 40) if trap == "after_16_days" else self.rng.randint(0, 15)
            self._readmit(first, second, gap, other_hospital=trap == "other_hospital")
            self.trap(first, trap)
            self.trap(second, trap)

    def _related(self, first: Stay, way: str) -> Any:
        def want(st: Stay) -> bool:
            if not st.principal or not st.adrg or st.psn_no == first.psn_no:
                return False
            if way in ("same_code", "same_dx3"):
                return st.hospital == first.hospital
            if way == "same_adrg":
                return st.adrg == first.adrg and st.principal[:3] != first.principal[:3]
            if way == "same_mdc":
                return st.mdc == first.mdc and st.adrg != first.adrg and st.principal[:3] != first.principal[:3]
            return (st.principal[:1] == first.principal[:1] and st.principal[:1] not in "DH"  # C00-D48|D50-D89
                    and st.mdc != first.mdc and st.principal[:3] != first.principal[:3])
        return want

    def _unrelated(self, first: Stay) -> Any:
        mine = {d[:3] for d in first.diagnoses}

        def want(st: Stay) -> bool:
            return (bool(st.principal) and bool(st.adrg) and st.mdc != first.mdc and st.principal[:1] !=
                    first.principal[:1] and not mine & {d[:3] for d in st.diagnoses})
        return want

    def _set_principal(self, stay: Stay, code: str) -> None:
        for d in stay.listing["input"]["diseinfo"]:
            if str(d.get("maindiag_flag")) == "1":
                d["diag_code"] = code
        stay.info["wm_dise_code"] = code

    def _readmit(self, first: Stay, second: Stay, gap: int, *, other_hospital: bool = False) -> None:
        """``second`` becomes ``first``'s person, readmitted ``gap`` calendar days after its discharge date."""
        day = first.discharged.date() + timedelta(days=gap)
        shift = timedelta(days=(day - second.admitted.date()).days)  # whole days: each line keeps its day
        start = second.admitted + shift
        second.info["adm_time"] = _s(start)
        second.info["dscg_time"] = _s(second.discharged + shift)
        for line in second.lines:
            line["fee_ocur_time"] = _s(_t(line["fee_ocur_time"]) + shift)
            line["psn_no"] = first.psn_no
        second.info["psn_no"] = first.psn_no
        if "hi_no" in second.info:
            second.info["hi_no"] = first.psn_no
        mine, theirs = first._patient(), second._patient()
        for key in ("psn_no", "psn_name", "certno", "gend", "brdy"):
            if key in mine:
                theirs[key] = mine[key]
        birth = first.birth
        if birth:
            theirs["age"] = str(_age(birth, start.date()))
        hospital = first.hospital
        if other_hospital:
            hospital = next(st.hospital for st in self.stays if st.hospital != first.hospital)
        for holder in (second.listing, second.record, second.request):
            if holder is not None:
                holder["fixmedins_code"] = hospital

    # ---- output -----------------------------------------------------------------------------------------------
    def write(self, out: Path, *, shuffle_lists: bool = True) -> None:
        out.mkdir(parents=True, exist_ok=True)
        lists = [st.listing for st in self.stays]
        if shuffle_lists:
            self.rng.shuffle(lists)  # input order must not matter (a person's lists across months)
        _jsonl(out / "settlement_lists.jsonl", lists)
        _jsonl(out / "settlement_records.jsonl", self.record_lines)
        _jsonl(out / "fee_details.jsonl", self._uploads())
        (out / "knowledge").mkdir(exist_ok=True)
        with (out / "knowledge" / "items.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.item_rows[0]))
            writer.writeheader()
            writer.writerows(self.item_rows)
        truth = [{"setl_id": s, "category": c, "variant": v} for c, by in self.out.planted.items()
                 for s, v in by.items()]
        truth += [{"setl_id": s, "category": "", "variant": f"involved:{c}"} for s in self.out.involved
                  for c in ("split_admission",)]
        truth += [{"setl_id": s, "category": "", "variant": f"trap:{v}"} for s, v in self.out.traps.items()]
        _jsonl(out / "truth.jsonl", truth)

    def daily_uploads(self, share: float) -> None:
        """A share of the planted and of the clean lists have their details uploaded day by day (one 2301 per day,
        the later days at the end of the file), as hospital systems upload during a stay."""
        planted = self.out.touched()
        for stay in self.pool:
            if stay.request and len({str(ln["fee_ocur_time"])[:10] for ln in stay.lines}) > 1 and \
                    self.rng.random() < (share if stay.setl_id in planted else share / 4):
                self.by_day.add(id(stay.request))

    def _uploads(self) -> list[Json]:
        first: list[Json] = []
        later: list[Json] = []
        for request in self.requests:
            if id(request) not in self.by_day:
                first.append(request)
                continue
            days: dict[str, list[Json]] = defaultdict(list)
            for line in request["input"]["feedetail"]:
                days[str(line["fee_ocur_time"])[:10]].append(line)
            for i, (_, lines) in enumerate(sorted(days.items())):
                part = {**request, "msgid": f"{request['msgid'][:-3]}{i:03d}", "input": {"feedetail": lines}}
                (later if i else first).append(part)
        self.rng.shuffle(later)
        return [*first, *later, *self.extra_requests]

    def clean(self) -> set[str]:
        """Lists untouched by a violation: the pool's lists never planted (traps included)."""
        return {st.setl_id for st in self.pool} - self.out.touched()


def _jsonl(path: Path, rows: Iterable[Json]) -> None:
    with path.open("wb") as handle:
        handle.writelines(orjson.dumps(row) + b"\n" for row in rows)


@dataclass(frozen=True)
class Score:
    category: str
    planted: int
    found: int
    clean: int
    clean_flagged: int
    missed: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 0.0

    @property
    def clean_rate(self) -> float:
        return self.clean_flagged / self.clean if self.clean else 0.0

    def __str__(self) -> str:
        return (f"{self.category}: recall {self.found}/{self.planted} = {self.recall:.3f}, clean lists flagged "
                f"{self.clean_flagged}/{self.clean} = {self.clean_rate:.4f}")


def score(injected: Injected, clean: set[str], flags: Path) -> list[Score]:
    found: dict[str, set[str]] = defaultdict(set)
    for line in flags.read_bytes().splitlines():
        flag = orjson.loads(line)
        found[flag["category"]].add(flag["setl_id"])
    out = []
    for category in DETERMINISTIC:
        planted = injected.planted[category]
        hit = found[category]
        missed = tuple(f"{s} {v}" for s, v in planted.items() if s not in hit)
        out.append(Score(category, len(planted), len(planted) - len(missed), len(clean), len(hit & clean), missed))
    return out
