"""A stay's fee details (费用明细) as the hospital uploads them: one national 2301 request per listed stay.

The lines of each fee category sum exactly to the category's amount on the list (and so to the record's total):
charges of library items at their reference prices day by day (a bed, a consultation and a nursing grade each
day; tests mostly early; drugs, treatments and materials every day; the operation on one day), within each
item's daily maximum, never an item and one it includes on the same day, sex- and age-limited items only on
patients they fit; what the priced charges leave of the category is one charge of the category's item without
a reference price. Clean stays therefore look busy (an item several times a day at different times, limited
items on the right patients) without breaking CONTRACT.md's rules.

Item-level behaviours are planted on some stays (``ItemBehaviourRates``) and recorded in the truth like the case
behaviours: RESTRICTED_SEX, RESTRICTED_AGE, DUPLICATE_CHARGE, EXCESSIVE_QUANTITY, UNBUNDLED_CHARGE. Each takes
its money from the category's open-priced charge, so the details still sum to the list.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta
from typing import Any

from .draw import Discharge
from .items import Item
from .params import ItemBehaviourRates

# Mean charges a day per category (beyond the daily bed, consultation and nursing), and how many days count.
_PER_DAY = {"03": 0.2, "04": 0.5, "05": 0.6, "08": 0.4, "09": 1.0, "10": 0.3, "11": 0.3, "14": 0.1}
_DAILY_ONE = ("01", "02", "07")  # one item chosen per stay, charged once each day
_MAX_DAYS = 10  # long stays: charges over the first ten days, the rest in the open-priced charges
_MAX_LINES = 20  # per category
_DAY = 86_400
ITEM, DAY, SECOND, CNT, PRICE = range(5)
"""A line while it is made: [item, day of the stay, second of that day, quantity, unit price in fen] (a list:
the open-priced charge's price changes as behaviours take from it; tens of lines per stay, on the hot path)."""


class FeeDetails:
    """Writes the 2301 requests of a run from its own random stream (the lists are the same with or without)."""

    def __init__(self, items: tuple[Item, ...], seed: int, rates: ItemBehaviourRates) -> None:
        self._rng = random.Random(f"fees:{seed}")
        self._rates = rates
        self.items = self._items = items
        self._by_code = {i.code: i for i in items}
        self._open = {i.category: i for i in items if i.price is None}
        self._priced: dict[str, list[Item]] = defaultdict(list)
        for i in items:
            if i.price is not None:
                self._priced[i.category].append(i)
        self._exclusive: dict[str, set[str]] = defaultdict(set)
        for i in items:
            for other in i.exclusive_with:
                self._exclusive[i.code].add(other)
                self._exclusive[other].add(i.code)
        self._local = {i.code: f"N{n:06d}" for n, i in enumerate(items, 1)}

    def request(self, d: Discharge, department: str) -> dict[str, Any]:
        """The stay's 2301 request; planted behaviours are appended to ``d.behaviours``."""
        stay = _Stay(self, d)
        for category, amount, *_ in d.fees:
            stay.category(f"{category:02d}", amount)
        for behaviour, rate in self._rates.__dict__.items():
            if self._rng.random() < rate and stay.plant(behaviour):
                d.behaviours.append(behaviour)
        return stay.request(department)


class _Stay:
    def __init__(self, fees: FeeDetails, d: Discharge) -> None:
        self.f, self.d, self.rng = fees, d, fees._rng
        self.random = fees._rng.random
        self.sex, self.years = d.person.sex, d.age_years
        first = d.admitted.date()
        self.days = max(1, min(_MAX_DAYS, (d.discharged.date() - first).days + 1))
        admitted = d.admitted.hour * 3600 + d.admitted.minute * 60 + d.admitted.second
        discharged = d.discharged.hour * 3600 + d.discharged.minute * 60 + d.discharged.second
        last = (d.discharged.date() - first).days
        # per day of the stay: its date as written and the seconds of the day charges fall in
        self.windows = [((first + timedelta(days=n)).isoformat(), admitted if n == 0 else 0,
                         discharged if n == last else _DAY - 1) for n in range(self.days)]
        self.lines: list[list[Any]] = []
        self.open: dict[str, list[Any]] = {}  # category -> its open-priced charge
        self.day_cnt: dict[tuple[int, str], int] = defaultdict(int)
        self.day_codes: dict[int, set[str]] = defaultdict(set)
        self.used: set[tuple[str, int, int]] = set()

    def _add(self, item: Item, day: int, cnt: int, price: int, second: int | None = None) -> list[Any]:
        if second is None:
            _, start, end = self.windows[day]
            second = start + int(self.random() * (end - start + 1))
            while (item.code, day, second) in self.used:  # distinct times: repeats are not duplicates
                second = second + 1 if second < end else start
        self.used.add((item.code, day, second))
        line = [item, day, second, cnt, price]
        self.lines.append(line)
        self.day_cnt[(day, item.code)] += cnt
        self.day_codes[day].add(item.code)
        return line

    def _fits(self, item: Item, day: int, cnt: int) -> bool:
        if not item.allowed(self.sex, self.years):
            return False
        if item.max_daily is not None and self.day_cnt[(day, item.code)] + cnt > item.max_daily:
            return False
        exclusive = self.f._exclusive.get(item.code)
        return not (exclusive and exclusive & self.day_codes[day])

    def category(self, category: str, amount: int) -> None:
        random, pool = self.random, self.f._priced.get(category, [])
        budget = int(amount * (0.55 + 0.35 * random()))
        spent = lines = 0
        if category in _DAILY_ONE:
            fitting = [i for i in pool if i.allowed(self.sex, self.years)]
            if fitting:
                item = fitting[int(random() * len(fitting))]
                price = item.price or 0
                for day in range(self.days):
                    if spent + price > budget:
                        break
                    self._add(item, day, 1, price)
                    spent += price
        elif category == "06":
            for item in self.rng.sample(pool, min(3, len(pool))):
                day = min(self.days - 1, int(random() * 3))
                price = item.price or 0
                if spent + price <= budget and self._fits(item, day, 1):
                    self._add(item, day, 1, price)
                    spent += price
        elif pool:
            rate = _PER_DAY.get(category, 0.5)
            for day in range(self.days):
                for _ in range(int(rate * (1.6 if day < 2 else 0.8) + random())):
                    item = pool[int(random() * len(pool))]
                    price = item.price or 0
                    cnt = 1 + int(random() * min(item.max_daily or 5, 3))
                    if lines >= _MAX_LINES or spent + cnt * price > budget or not self._fits(item, day, cnt):
                        continue
                    self._add(item, day, cnt, price)
                    spent, lines = spent + cnt * price, lines + 1
                    if random() < 0.35 and spent + price <= budget and self._fits(item, day, 1):
                        self._add(item, day, 1, price)  # the evening dose, a second test: at another time
                        spent, lines = spent + price, lines + 1
        rest = amount - spent
        if rest > 0:
            self.open[category] = self._add(self.f._open[category], self.days - 1, 1, rest)

    # --- planted behaviours: each takes its amount from the open-priced charge of the line's category -------

    def _afford(self, category: str, amount: int) -> bool:
        line = self.open.get(category)
        if line is None or line[PRICE] - amount < 100:
            return False
        line[PRICE] -= amount
        return True

    def plant(self, behaviour: str) -> bool:
        return bool(getattr(self, "_" + behaviour.lower())())

    def _restricted_sex(self) -> bool:
        if self.sex not in (1, 2):
            return False
        return self._limited(lambda i: i.sex_limit not in (0, self.sex) and i.min_age is None and i.max_age is None)

    def _restricted_age(self) -> bool:
        return self._limited(lambda i: not i.sex_limit and not i.allowed(self.sex, self.years))

    def _limited(self, wrong: Any) -> bool:
        candidates = [i for i in self.f._items if i.price is not None and wrong(i)]
        self.rng.shuffle(candidates)
        for item in candidates:
            day = int(self.random() * self.days)
            price = item.price or 0
            if (not (self.f._exclusive.get(item.code, set()) & self.day_codes[day])
                    and self._afford(item.category, price)):
                self._add(item, day, 1, price)
                return True
        return False

    def _duplicate_charge(self) -> bool:
        lines = [ln for ln in self.lines if ln[ITEM].price is not None and (
            ln[ITEM].max_daily is None or self.day_cnt[(ln[DAY], ln[ITEM].code)] + ln[CNT] <= ln[ITEM].max_daily)]
        if not lines:
            return False
        line = self.rng.choice(lines)
        if not self._afford(line[ITEM].category, line[CNT] * line[PRICE]):
            return False
        self._add(line[ITEM], line[DAY], line[CNT], line[PRICE], second=line[SECOND])
        return True

    def _excessive_quantity(self) -> bool:
        lines = [ln for ln in self.lines if ln[ITEM].price is not None and ln[ITEM].max_daily is not None
                 and not ln[ITEM].limited]
        self.rng.shuffle(lines)
        for line in lines:
            item = line[ITEM]
            extra = item.max_daily - self.day_cnt[(line[DAY], item.code)] + 1 + int(self.random() * 2)
            if self._afford(item.category, extra * line[PRICE]):
                self._add(item, line[DAY], extra, line[PRICE])
                return True
        return False

    def _unbundled_charge(self) -> bool:
        lines = [ln for ln in self.lines if self.f._exclusive.get(ln[ITEM].code)]
        self.rng.shuffle(lines)
        for line in lines:
            for code in sorted(self.f._exclusive[line[ITEM].code]):
                other = self.f._by_code[code]
                if (other.price is None or not other.allowed(self.sex, self.years)
                        or self.day_cnt[(line[DAY], code)] + 1 > (other.max_daily or 99)):
                    continue
                if self._afford(other.category, other.price):
                    self._add(other, line[DAY], 1, other.price)
                    return True
        return False

    def request(self, department: str) -> dict[str, Any]:
        d, windows = self.d, self.windows
        self.lines.sort(key=lambda ln: (ln[DAY], ln[SECOND]))
        local, psn, mdtrt, doctor = self.f._local, d.person.psn_no, d.mdtrt_id, d.doctor
        details = []
        for n, (item, day, second, cnt, price) in enumerate(self.lines, 1):
            amount = cnt * price
            details.append({
                "feedetl_sn": str(n), "mdtrt_id": mdtrt, "psn_no": psn, "med_type": "21",
                "fee_ocur_time": f"{windows[day][0]} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}",
                "med_list_codg": item.code, "medins_list_codg": local[item.code],
                "med_chrgitm_type": item.category, "cnt": str(cnt), "pric": f"{price // 100}.{price % 100:02d}",
                "det_item_fee_sumamt": f"{amount // 100}.{amount % 100:02d}", "bilg_dept_codg": department,
                "bilg_dr_codg": doctor})
        sent = d.discharged
        return {"infno": "2301",
                "msgid": f"{d.hospital.code}{sent.year:04d}{sent.month:02d}{sent.day:02d}{sent.hour:02d}"
                         f"{sent.minute:02d}{sent.second:02d}{d.serial % 10000:04d}",
                "fixmedins_code": d.hospital.code, "input": {"feedetail": details}}
