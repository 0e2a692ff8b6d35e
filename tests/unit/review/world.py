"""An outside checker's world for smart review, written independently of ``medpay synth``.

It makes a small prefecture's clean stays (rich 4101A lists, their 2301 fee details summing to the lists' fee
categories, an items.csv knowledge library) full of legitimately repeated charges, then plants violations of each
deterministic category of CONTRACT.md in several ways, reading the contract's definitions word by word. The
review must find the planted behaviour, whatever the data looks like otherwise.

Clean traps (charges that look suspicious but are not violations by the contract):
- an item charged several times a day at different times, up to its daily maximum exactly;
- the same item at the same time with a different quantity, or charged, refunded and charged again;
- exclusive pairs on different days; sex- and age-limited items on the right patients, at the age boundaries,
  including patients who pass an age limit during the stay (the age at admission counts);
- the same person back at the same hospital after 16 days or more, back within 15 days for an unrelated
  condition, or back at another hospital. (A chemotherapy course within 15 days is a readmission for the same
  condition by CONTRACT's words, so it is no clean trap: a region that exempts it sets the rule's
  ``exempt_principal``.)
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

DETERMINISTIC = ("split_admission", "restricted_sex", "restricted_age", "duplicate_charge", "excessive_quantity",
                 "unbundled_charge")
HOSPITALS = ("H33070200011", "H33070200027", "H33072300004", "H33078100019", "H33078300002", "H33072600008")
# Principal diagnoses by body system: conditions of different systems are unrelated.
CONDITIONS = {
    "heart": (("I21.001", "I21.000"), ("I20.000",), ("I50.900",)),
    "lung": (("J18.900",), ("J44.100",)),
    "belly": (("K35.800",), ("K80.200",)),
    "bone": (("S72.000",),),
    "kidney": (("N17.900",),),
    "metabolic": (("E11.900",),),
}
SECONDARY = ("I10.x05", "E11.900", "R50.900")
FEMALE_ONLY_DX, MALE_ONLY_DX = "O80.000", "N40.x00"


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    kind: str
    category: str
    price: str
    sex_limit: int | None = None
    min_age: int | None = None
    max_age: int | None = None
    max_daily: int | None = None
    exclusive_with: tuple[str, ...] = ()
    in_library: bool = True


def catalogue() -> list[Item]:
    items = [
        Item("001101000010000", "床位费（三人间）", "service", "01", "45.00", max_daily=1),
        Item("001102000010000", "诊查费", "service", "02", "6.00", max_daily=1),
        Item("001201000010000", "二级护理", "service", "07", "28.00", max_daily=1),
        Item("001201000020000", "静脉输液", "service", "05", "8.50", max_daily=4),
        Item("002501000010000", "血常规", "service", "04", "20.00", max_daily=2),
        Item("002503000010000", "肝功能全套", "service", "04", "96.00", max_daily=1,
             exclusive_with=("002503000020000", "002503000030000")),
        Item("002503000020000", "丙氨酸氨基转移酶测定", "service", "04", "7.00"),
        Item("002503000030000", "总胆红素测定", "service", "04", "6.50", max_daily=1),
        Item("002504000010000", "肾功能全套", "service", "04", "72.00", max_daily=1,
             exclusive_with=("002504000020000",)),
        Item("002504000020000", "肌酐测定", "service", "04", "8.00"),
        Item("002101000010000", "胸部CT平扫", "service", "03", "260.00", max_daily=1),
        Item("002201000010000", "心电图", "service", "03", "25.00", max_daily=3),
        Item("XJ01DDC052A001010103755", "头孢曲松钠注射剂", "drug", "09", "12.36", max_daily=4),
        Item("XN02BEA049A001010100839", "对乙酰氨基酚片", "drug", "09", "0.35", max_daily=8),
        Item("XC10AAA041A001010100015", "阿托伐他汀钙片", "drug", "09", "3.15", max_daily=2),
        Item("XB01ABA071B002010100015", "低分子肝素钠注射液", "drug", "09", "28.80", max_daily=2),
        Item("ZA12BAA0213010102890", "复方丹参滴丸", "drug", "11", "0.42"),
        Item("C14010101100001000020", "一次性输液器", "consumable", "08", "3.20", max_daily=6),
        Item("C02020303300001000019", "静脉留置针", "consumable", "08", "18.00", max_daily=2),
        # sex limits
        Item("002505000010000", "前列腺特异性抗原测定", "service", "04", "55.00", sex_limit=1, max_daily=1),
        Item("XG04CAA160E001010100015", "坦索罗辛缓释胶囊", "drug", "09", "2.60", sex_limit=1, max_daily=1),
        Item("002506000010000", "人乳头瘤病毒核酸检测", "service", "04", "180.00", sex_limit=2, max_daily=1),
        Item("XG03CAE023A001010100040", "戊酸雌二醇片", "drug", "09", "1.85", sex_limit=2, max_daily=2),
        # age limits
        Item("XR05CBA019X001010100015", "小儿氨酚黄那敏颗粒", "drug", "09", "1.20", max_age=14, max_daily=3),
        Item("001201000090000", "新生儿护理", "service", "07", "40.00", max_age=1, max_daily=1),
        Item("003101000010000", "老年综合评估", "service", "05", "120.00", min_age=65, max_daily=1),
        Item("XJ01MAM094A001010100051", "左氧氟沙星注射液", "drug", "09", "15.60", min_age=18, max_daily=1),
        Item("XN06AXX041A001010100015", "成人抗抑郁片", "drug", "09", "4.20", min_age=18, max_age=75, max_daily=2),
    ]
    # charged items the library does not know (no limits): the review must leave them alone
    items += [Item(f"00{3300 + i:04d}00001000", f"其他项目{i}", "service", ("05", "03", "14", "08")[i % 4],
                   f"{5 + 3 * i}.00", in_library=False) for i in range(12)]
    return items


ITEMS = {item.code: item for item in catalogue()}
ROUTINE = [i for i in ITEMS.values() if i.sex_limit is None and i.min_age is None and i.max_age is None]
EXCLUSIVE = {a.code: set(a.exclusive_with) for a in ITEMS.values()}
for _a in list(EXCLUSIVE):
    for _b in EXCLUSIVE[_a]:
        EXCLUSIVE.setdefault(_b, set()).add(_a)


def items_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "kind", "med_chrgitm_type", "price", "sex_limit", "min_age", "max_age",
                     "max_daily_cnt", "exclusive_with"])
    for i in ITEMS.values():
        if i.in_library:
            writer.writerow([i.code, i.name, i.kind, i.category, i.price, i.sex_limit or "",
                             "" if i.min_age is None else i.min_age, "" if i.max_age is None else i.max_age,
                             i.max_daily or "", ";".join(i.exclusive_with)])
    return out.getvalue()


def fen(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0")) if not whole.startswith("-") else -fen(text[1:])


def money(amount: int) -> str:
    return f"{'-' if amount < 0 else ''}{abs(amount) // 100}.{abs(amount) % 100:02d}"


@dataclass
class Person:
    psn_no: str
    sex: int
    birth: date


@dataclass
class StayData:
    hospital: str
    person: Person
    serial: int
    admitted: datetime
    discharged: datetime
    diagnoses: list[str]
    lines: list[dict[str, Any]] = field(default_factory=list)
    planted: set[str] = field(default_factory=set)
    partner: bool = False  # the first stay of a planted split admission: "both stays may be flagged"
    related: str = ""  # a planted readmission: the setl_id of the first stay
    stated_age: int | None = None  # overrides the age the list states
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (code, day) -> net quantity

    def __post_init__(self) -> None:
        self._mdtrt = self.mdtrt_id

    @property
    def setl_id(self) -> str:
        return f"330700S{self.discharged:%Y%m%d}{self.serial:08d}"

    @property
    def mdtrt_id(self) -> str:
        return f"330700M{self.admitted.year:04d}{self.admitted.month:02d}{self.admitted.day:02d}{self.serial:08d}"

    def age_on(self, day: date) -> int:
        b = self.person.birth
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def age(self) -> int:
        return self.age_on(self.admitted.date())

    def days(self) -> list[date]:
        first, last = self.admitted.date(), self.discharged.date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def charge(self, item: Item, when: datetime, cnt: int = 1, *, sn: str | None = None) -> dict[str, Any]:
        amount = fen(item.price) * cnt
        line = {"feedetl_sn": sn or str(len(self.lines) + 1), "mdtrt_id": self._mdtrt,
                "psn_no": self.person.psn_no, "med_type": "21", "fee_ocur_time": when.isoformat(" "),
                "med_list_codg": item.code, "medins_list_codg": f"Y{item.code[-8:]}",
                "med_chrgitm_type": item.category, "cnt": str(cnt), "pric": item.price,
                "det_item_fee_sumamt": money(amount), "bilg_dept_codg": "A03", "bilg_dr_codg": "D330703000123"}
        self.add(line)
        return line

    def add(self, line: dict[str, Any], at: int | None = None) -> None:
        self.lines.insert(len(self.lines) if at is None else at, line)
        key = (line["med_list_codg"], line["fee_ocur_time"][:10])
        self.counts[key] = self.counts.get(key, 0) + int(line["cnt"])

    def day_count(self, code: str, day: date) -> int:
        return self.counts.get((code, day.isoformat()), 0)

    def list_request(self, *, his_form: bool = False) -> dict[str, Any]:
        by_category: dict[str, int] = {}
        for line in self.lines:
            by_category[line["med_chrgitm_type"]] = by_category.get(line["med_chrgitm_type"], 0) + fen(
                line["det_item_fee_sumamt"])
        total = sum(by_category.values())
        s: dict[str, Any] = {
            "psn_no": self.person.psn_no, "mdtrt_id": self.mdtrt_id, "setl_id": self.setl_id,
            "adm_time": self.admitted.isoformat(" "), "dscg_time": self.discharged.isoformat(" "),
            "dscg_way": "1", "dscg_caty": "A03", "chfpdr_code": "D330703000123", "insutype": "310",
            "setl_begn_date": self.admitted.date().isoformat(), "setl_end_date": self.discharged.date().isoformat(),
        }
        body: dict[str, Any] = {
            "setlinfo": s,
            "diseinfo": [{"diag_type": "1", "diag_code": code, "diag_name": "", "maindiag_flag": "1" if i == 0
                          else "0", "adm_cond_type": "1"} for i, code in enumerate(self.diagnoses)],
            "oprninfo": [], "icuinfo": [], "bldinfo": [], "opspdiseinfo": [],
        }
        if his_form:  # as hospital systems send it: no demographics, no iteminfo/payinfo, numbers as strings
            s.update({"gend": "", "brdy": None, "age": "", "psn_name": None, "medfee_sumamt": ""})
            body["iteminfo"], body["payinfo"] = [], []
        else:
            s.update({"psn_name": "测试", "gend": str(self.person.sex), "brdy": self.person.birth.isoformat(),
                      "age": self.age if self.stated_age is None else self.stated_age,
                      "medfee_sumamt": money(total)})
            body["iteminfo"] = [{"med_chrgitm": c, "amt": money(a), "claa_sumfee": money(a), "clab_amt": "0.00",
                                 "fulamt_ownpay_amt": "0.00", "oth_amt": "0.00"}
                                for c, a in sorted(by_category.items())]
            body["payinfo"] = [{"fund_pay_type": "310100", "fund_payamt": money(total * 7 // 10)}]
        return {"infno": "4101A", "msgid": f"{self.hospital}{self.serial:018d}", "fixmedins_code": self.hospital,
                "fixmedins_name": "测试医院", "input": body}

    def record(self) -> dict[str, Any]:
        total = sum(fen(x["det_item_fee_sumamt"]) for x in self.lines)
        return {"infno": "2304", "fixmedins_code": self.hospital, "fixmedins_name": "测试医院",
                "setlinfo": {"mdtrt_id": self.mdtrt_id, "setl_id": self.setl_id, "psn_no": self.person.psn_no,
                             "psn_name": "测试", "gend": str(self.person.sex), "brdy": self.person.birth.isoformat(),
                             "age": str(self.age if self.stated_age is None else self.stated_age),
                             "insutype": "310", "medfee_sumamt": money(total), "fund_pay_sumamt": money(total // 2),
                             "setl_time": self.discharged.isoformat(" ")},
                "setldetail": []}

    def fee_request(self) -> dict[str, Any]:
        return {"infno": "2301", "msgid": f"F{self.hospital}{self.serial:017d}", "fixmedins_code": self.hospital,
                "input": {"feedetail": self.lines}}


def _anniversary(day: date, years: int) -> date:
    """The birth date of someone who turns ``years`` on ``day``."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return date(day.year - years, 3, 1)


class World:
    """Clean stays with traps; ``plant_*`` methods add violations and record them on the stay."""

    def __init__(self, seed: int, stays: int, span_days: int = 330) -> None:
        self.rng = random.Random(seed)
        self.span_days = span_days
        self.stays: list[StayData] = []
        self._serial = 0
        self._person = 0
        for _ in range(stays):
            self._clean_stay()
        self._clean_returns(stays // 12)

    # clean data ----------------------------------------------------------------------------------------------------
    def _new_person(self, age: int | None = None, sex: int | None = None, on: date | None = None) -> Person:
        rng = self.rng
        self._person += 1
        age = rng.choice((2, 6, 14, 15, 17, 18, 30, 44, 52, 64, 65, 70, 75, 76, 81)) if age is None else age
        on = on or date(2026, 6, 1)
        birth = date(on.year - age, on.month, min(on.day, 28)) - timedelta(days=rng.randint(0, 364))
        return Person(f"3307002{self._person:013d}", sex or rng.choice((1, 2)), birth)

    def _clean_stay(self, person: Person | None = None, hospital: str | None = None, admitted: datetime | None = None,
                    diagnoses: list[str] | None = None) -> StayData:
        rng = self.rng
        self._serial += 1
        admitted = admitted or datetime(2026, 1, 3, 8) + timedelta(minutes=rng.randint(0, self.span_days * 24 * 60))
        los = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 18))
        discharged = datetime.combine(admitted.date() + timedelta(days=los), datetime.min.time()) + timedelta(
            hours=rng.randint(9, 16), minutes=rng.randint(0, 59))
        if discharged <= admitted:
            discharged = admitted + timedelta(hours=5)
        if person is None:
            person = self._new_person(on=admitted.date())
            if rng.random() < 0.03:  # a birthday during the stay, right at an age limit
                age = rng.choice((14, 17, 64, 75))
                birth_day = admitted.date() + timedelta(days=max(1, los // 2))
                person.birth = date(birth_day.year - age - 1, birth_day.month, min(birth_day.day, 28))
        if diagnoses is None:
            system = rng.choice(list(CONDITIONS))
            principal = rng.choice(rng.choice(CONDITIONS[system]))
            diagnoses = [principal, *rng.sample(SECONDARY, rng.randint(0, 2))]
            diagnoses = list(dict.fromkeys(diagnoses))
        stay = StayData(hospital or rng.choice(HOSPITALS), person, self._serial, admitted, discharged, diagnoses)
        self._fees(stay)
        self.stays.append(stay)
        return stay

    def _allowed(self, stay: StayData, item: Item) -> bool:
        if item.sex_limit is not None and item.sex_limit != stay.person.sex:
            return False
        return (item.min_age is None or stay.age >= item.min_age) and (item.max_age is None or stay.age <= item.max_age)

    def _fees(self, stay: StayData) -> None:
        rng = self.rng
        days = stay.days()
        for i, day in enumerate(days):
            start = stay.admitted if i == 0 else datetime.combine(day, datetime.min.time())
            if i < len(days) - 1 or len(days) == 1:
                stay.charge(ITEMS["001101000010000"], start)
                stay.charge(ITEMS["001201000010000"], datetime.combine(day, datetime.min.time()) + timedelta(hours=8))
            stay.charge(ITEMS["001102000010000"], datetime.combine(day, datetime.min.time()) + timedelta(hours=9))
        limited = [i for i in ITEMS.values() if (i.sex_limit or i.min_age is not None or i.max_age is not None)
                   and self._allowed(stay, i)]
        drugs = rng.sample([i for i in ROUTINE if i.kind == "drug"], 2) + rng.sample(limited, min(len(limited), 2))
        others = [i for i in ROUTINE if i.kind != "drug" and i.code not in ("001101000010000", "001201000010000",
                                                                              "001102000010000")]
        for day in days:
            base = datetime.combine(day, datetime.min.time())
            for drug in drugs:
                if rng.random() < 0.4:
                    continue
                cap = drug.max_daily or 3
                times = sorted(rng.sample((7, 8, 11, 12, 15, 16, 19, 20, 22), min(cap, rng.randint(1, 4))))
                for hour in times:  # several doses a day at different times: never above the cap
                    if stay.day_count(drug.code, day) < cap:
                        stay.charge(drug, base + timedelta(hours=hour, minutes=rng.choice((0, 5, 30))))
                last = stay.lines[-1]
                if last["med_list_codg"] == drug.code and rng.random() < 0.15:  # a dose refunded, charged again
                    refund = stay.charge(drug, base + timedelta(hours=23, minutes=10), -1)
                    refund["init_feedetl_sn"] = last["feedetl_sn"]
                    stay.charge(drug, base + timedelta(hours=23, minutes=40))
            taken: set[str] = set()
            for item in rng.sample(others, rng.randint(1, 4)):
                if EXCLUSIVE.get(item.code, set()) & taken or item.code in taken:
                    continue  # exclusive items never on the same day (a trap on other days)
                cap = item.max_daily or 2
                taken.add(item.code)
                when = base + timedelta(hours=rng.randint(8, 17), minutes=rng.randint(0, 59))
                stay.charge(item, when)
                if cap >= 3 and rng.random() < 0.3:  # same time, another quantity: not a duplicate
                    stay.charge(item, when, 2)
                elif cap >= 2 and rng.random() < 0.3:  # the same again later that day, within the cap
                    stay.charge(item, when + timedelta(minutes=rng.randint(1, 300)))

    def _clean_returns(self, count: int) -> None:
        """Returning patients who are not split admissions."""
        rng = self.rng
        firsts = [s for s in self.stays if s.admitted.month < 12]
        for first in rng.sample(firsts, count):
            kind = rng.randrange(3)
            gap = rng.randint(16, 60) if kind == 0 else rng.randint(0, 15)
            admitted = datetime.combine(first.discharged.date() + timedelta(days=gap), datetime.min.time()) + \
                timedelta(hours=rng.randint(8, 20))
            if admitted <= first.discharged:
                admitted = first.discharged + timedelta(hours=3)
            hospital, diagnoses = first.hospital, list(first.diagnoses)
            if kind == 1:  # within 15 days, another body system altogether
                mine = {d[:3] for d in first.diagnoses}
                systems = [s for s, conds in CONDITIONS.items()
                           if not any(c[:3] in mine for group in conds for c in group)]
                principal = rng.choice(rng.choice(CONDITIONS[rng.choice(systems)]))
                diagnoses = [principal]
            elif kind == 2:  # within 15 days, same condition, another hospital
                hospital = rng.choice([h for h in HOSPITALS if h != first.hospital])
            self._clean_stay(first.person, hospital, admitted, diagnoses)

    # planted violations -------------------------------------------------------------------------------------------
    def _pick(self, ok: Any = None) -> StayData:
        while True:
            stay = self.rng.choice(self.stays)
            if not stay.planted and not stay.partner and (ok is None or ok(stay)):
                return stay

    def _free_time(self, stay: StayData, day: date | None = None) -> datetime:
        day = day or self.rng.choice(stay.days())
        return datetime.combine(day, datetime.min.time()) + timedelta(hours=self.rng.randint(8, 21),
                                                                     minutes=self.rng.randint(0, 59), seconds=17)

    def plant_split_admission(self) -> StayData:
        rng = self.rng
        counts: dict[str, int] = {}
        for s in self.stays:
            counts[s.person.psn_no] = counts.get(s.person.psn_no, 0) + 1
        first = self._pick(lambda s: counts[s.person.psn_no] == 1 and s.admitted.month < 12
                           and s.diagnoses[0] != "Z51.100")
        gap = rng.choice((0, 1, 3, 7, 10, 14, 15))
        admitted = datetime.combine(first.discharged.date() + timedelta(days=gap), datetime.min.time()) + timedelta(
            hours=rng.randint(8, 22))
        if admitted <= first.discharged:
            admitted = first.discharged + timedelta(hours=2)
        way = rng.randrange(3)
        principal = first.diagnoses[0]
        if way == 1:  # another code of the same category
            siblings = [c for conds in CONDITIONS.values() for group in conds for c in group
                        if c[:3] == principal[:3] and c != principal]
            principal = siblings[0] if siblings else principal
        elif way == 2 and len(first.diagnoses) > 1:  # back for what was a secondary diagnosis
            principal = first.diagnoses[1]
        later = self._clean_stay(first.person, first.hospital, admitted, [principal])
        later.planted.add("split_admission")
        later.related = first.setl_id
        first.partner = True
        return later

    def plant_restricted_sex(self) -> StayData:
        rng = self.rng
        if rng.random() < 0.7:
            stay = self._pick()
            item = rng.choice([i for i in ITEMS.values() if i.sex_limit and i.sex_limit != stay.person.sex])
            stay.charge(item, self._free_time(stay))
        else:  # the patient's sex recorded otherwise on a stay with a sex-limited item
            def has_limited(s: StayData) -> bool:
                return any(ITEMS[x["med_list_codg"]].sex_limit for x in s.lines) and not (
                    {FEMALE_ONLY_DX, MALE_ONLY_DX} & set(s.diagnoses))

            stay = self._pick(has_limited)
            stay.person = Person(stay.person.psn_no + "X", 3 - stay.person.sex, stay.person.birth)
        stay.planted.add("restricted_sex")
        return stay

    def plant_restricted_age(self) -> StayData:
        rng = self.rng
        if rng.random() < 0.6:
            stay = self._pick()
            age = stay.age
            bad = [i for i in ITEMS.values() if (i.min_age is not None and age < i.min_age)
                   or (i.max_age is not None and age > i.max_age)]
            if not bad:
                return self.plant_restricted_age()
            item = rng.choice(bad)
            if item.sex_limit and item.sex_limit != stay.person.sex:
                return self.plant_restricted_age()
            stay.charge(item, self._free_time(stay))
        else:  # a birth date that puts the patient just outside the limit at admission
            item = rng.choice([i for i in ITEMS.values() if (i.min_age or i.max_age is not None) and not i.sex_limit])
            stay = self._pick()
            a = stay.admitted.date()
            if item.max_age is not None and (item.min_age is None or rng.random() < 0.5):
                birth = _anniversary(a, item.max_age + 1)  # turned max_age + 1 on the day of admission
            else:  # min_age - 1 at admission, min_age the day after: under age at admission, of age at discharge
                birth = _anniversary(a + timedelta(days=1), item.min_age or 1)
            stay.person = Person(stay.person.psn_no + "A", stay.person.sex, birth)
            stay.charge(item, self._free_time(stay))
        stay.planted.add("restricted_age")
        return stay

    def plant_duplicate(self) -> StayData:
        rng = self.rng
        stay = self._pick()
        refunded = {x.get("init_feedetl_sn") for x in stay.lines}
        line = rng.choice([x for x in stay.lines if int(x["cnt"]) > 0 and x["feedetl_sn"] not in refunded])
        copy = dict(line)
        if rng.random() < 0.7:
            copy["feedetl_sn"] = str(len(stay.lines) + 1)
        stay.add(copy, rng.randint(0, len(stay.lines)))
        stay.planted.add("duplicate_charge")
        return stay

    def plant_excessive(self) -> StayData:
        rng = self.rng
        capped = [i for i in ROUTINE if i.max_daily]
        stay = self._pick()
        item = rng.choice(capped)
        day = rng.choice(stay.days())
        have = stay.day_count(item.code, day)
        extra = item.max_daily - have + rng.choice((1, 1, 2, 5))  # type: ignore[operator]
        if rng.random() < 0.5 or extra == 1:
            for _ in range(extra):
                stay.charge(item, self._free_time(stay, day))
        else:
            stay.charge(item, self._free_time(stay, day), extra)
        stay.planted.add("excessive_quantity")
        return stay

    def plant_unbundled(self) -> StayData:
        rng = self.rng
        stay = self._pick()
        whole = rng.choice([i for i in ITEMS.values() if i.exclusive_with])
        part = ITEMS[rng.choice(whole.exclusive_with)]
        day = rng.choice(stay.days())
        for item in (whole, part) if rng.random() < 0.5 else (part, whole):
            if stay.day_count(item.code, day) <= 0 or item is part:
                stay.charge(item, self._free_time(stay, day))
        stay.planted.add("unbundled_charge")
        return stay

    def plant(self, category: str, count: int) -> list[StayData]:
        planter = {"split_admission": self.plant_split_admission, "restricted_sex": self.plant_restricted_sex,
                   "restricted_age": self.plant_restricted_age, "duplicate_charge": self.plant_duplicate,
                   "excessive_quantity": self.plant_excessive, "unbundled_charge": self.plant_unbundled}[category]
        return [planter() for _ in range(count)]

    # files ---------------------------------------------------------------------------------------------------------
    def write(self, folder: Path, *, his_form: bool = False) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"lists": folder / "lists.jsonl", "fee_details": folder / "fee_details.jsonl",
                 "knowledge": folder / "items.csv", "records": folder / "records.jsonl"}
        order = list(self.stays)
        self.rng.shuffle(order)  # files in no particular order: details need not follow their lists
        paths["lists"].write_bytes(b"".join(orjson.dumps(s.list_request(his_form=his_form)) + b"\n"
                                            for s in self.stays))
        paths["fee_details"].write_bytes(b"".join(orjson.dumps(s.fee_request()) + b"\n" for s in order))
        paths["knowledge"].write_text(items_csv(), encoding="utf-8")
        paths["records"].write_bytes(b"".join(orjson.dumps(s.record()) + b"\n" for s in order))
        return paths

    def clean(self) -> Iterator[StayData]:
        return (s for s in self.stays if not s.planted and not s.partner)
