"""The generator: a seeded, streaming walk through a prefecture's year of discharges.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same parameters and seed give
byte-identical output; lists are yielded one by one (memory stays flat for any number of lists).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from .catalogue import Catalogue, DrgRecipe, Variant
from .costs import CostModel, length_of_stay, pay, split_fees
from .draw import Discharge
from .faults import FaultContext, inject
from .lists import request, setl_id, truth
from .params import SynthParams
from .people import Population
from .region import Hospital

ADULT_BANDS = ("adult", "elderly")


class FastRandom(random.Random):
    """``random.Random`` whose ``choice`` and ``randint`` use one ``random()`` call each.

    The library versions draw bits in a rejection loop; at ten draws per list they were a tenth of the
    generator's time. The bias of ``int(random() * n)`` is below 2**-40 for the sizes used here.
    """

    def choice(self, seq: Sequence[Any]) -> Any:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))


@dataclass(frozen=True)
class Reference:
    """What the generator reads: the calibrated catalogue, code names, the hospitals, fault material."""

    catalogue: Catalogue
    names: Mapping[str, str]
    hospitals: Sequence[Hospital]
    faults: FaultContext


class Generator:
    def __init__(self, params: SynthParams, ref: Reference) -> None:
        self.p = params
        self.ref = ref
        self.rng = FastRandom(params.seed)
        self.costs = CostModel(params, params.seed)
        self.people = Population(params.region, params.year, self.rng, params.returning_person_rate)
        self._serial = itertools.count(1)
        self._seq: dict[str, int] = {}
        adrgs = list(ref.catalogue.recipes)
        random.Random(f"mix:{params.seed}").shuffle(adrgs)
        self._adrgs = adrgs
        self._adrg_cum = list(itertools.accumulate(1 / (rank + 1) ** params.zipf_exponent
                                                   for rank in range(len(adrgs))))
        self._hospital_cum = list(itertools.accumulate(h.beds for h in ref.hospitals))
        self._last_day = date(params.year, params.months, _days_in(params.year, params.months))
        self._dialect = {h.code: i % 5 == 4 for i, h in enumerate(ref.hospitals)}  # a fifth spell nwbbirwt

    def lists(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(request, truth) pairs, month by month, exactly ``cases`` of them."""
        emitted = 0
        for month, count in enumerate(self._per_month(), start=1):
            made = 0
            while made < count and emitted < self.p.cases:
                for d in self._discharges(month):
                    if emitted >= self.p.cases:
                        break
                    yield self._write(d)
                    made += 1
                    emitted += 1

    def _per_month(self) -> list[int]:
        base, extra = divmod(self.p.cases, self.p.months)
        return [base + (1 if m < extra else 0) for m in range(self.p.months)]

    def _discharges(self, month: int) -> Iterator[Discharge]:
        d = self._discharge(month)
        yield d
        if (d.recipe.variants and d.discharge_way == "1" and d.age_days is None
                and self.rng.random() < self.p.split_admission_rate):
            follow = self._readmission(d)
            if follow is not None:
                yield follow

    def _discharge(self, month: int) -> Discharge:
        rng = self.rng
        hospital = self.ref.hospitals[bisect.bisect(self._hospital_cum, rng.random() * self._hospital_cum[-1])]
        adrg = self._adrgs[bisect.bisect(self._adrg_cum, rng.random() * self._adrg_cum[-1])]
        recipe = self._severity(self.ref.catalogue.recipes[adrg], hospital.level)
        behaviours: list[str] = []
        cost_basis, honest = recipe, ""
        if hospital.aggressive and recipe.severity == "5" and rng.random() < self.p.upcoding_rate:
            upcoded = _sibling(self.ref.catalogue.recipes[adrg], "1")
            if upcoded is not None:
                recipe, honest = upcoded, cost_basis.drg
                behaviours.append("UPCODED")
        day = date(self.p.year, month, 1) + timedelta(days=rng.randrange(_days_in(self.p.year, month)))
        return self._build(hospital, recipe, cost_basis=cost_basis, discharge_day=day, behaviours=behaviours,
                           honest=honest)

    def _severity(self, recipes: tuple[DrgRecipe, ...], level: int) -> DrgRecipe:
        if len(recipes) == 1:
            return recipes[0]
        mcc, cc = self.p.mcc_rate_by_level[level], self.p.cc_rate_by_level[level]
        weights = [{"1": mcc, "3": cc, "5": max(0.0, 1 - mcc - cc)}.get(r.severity, 0.3) for r in recipes]
        return self.rng.choices(recipes, weights)[0]

    def _build(self, hospital: Hospital, recipe: DrgRecipe, *, cost_basis: DrgRecipe, discharge_day: date,
               behaviours: list[str], honest: str = "", person: Any = None, admitted_on: date | None = None,
               variant: Variant | None = None) -> Discharge:
        rng, p = self.rng, self.p
        variant = variant or rng.choice(recipe.variants)
        expected, expected_los = self.costs.expected(cost_basis, hospital.level)
        cost, outlier = self.costs.draw(expected, rng)
        los = length_of_stay(expected_los, cost / expected, rng)
        if (not recipe.surgical and variant.profile.name in ADULT_BANDS and not behaviours and person is None
                and rng.random() < p.low_standard_admission_rate):
            cost, los, outlier = expected * rng.uniform(0.15, 0.35), rng.randint(1, 2), "low"
            behaviours.append("LOW_STANDARD_ADMISSION")
        if admitted_on is not None:
            discharge_day = admitted_on + timedelta(days=los)
        admitted, discharged = _times(discharge_day, los, rng)
        if person is None:
            person, years, days = self.people.person_for(variant.sex, variant.profile, admitted.date())
        else:
            years, days = _age(person.birth, admitted.date())
        weight = rng.randint(*variant.profile.weight_g) if variant.profile.weight_g else None
        total = max(1_000, int(cost * 100))
        fees = split_fees(total, "newborn" if days is not None and days <= 28 else
                          "surgical" if recipe.surgical else "medical", hospital.kind == "tcm", rng)
        way, receiver = self._discharge_way(recipe, hospital)
        doctor = rng.choice(hospital.doctors)
        d = Discharge(next(self._serial), hospital, doctor, person, years, days, weight, recipe, variant,
                      self._diagnoses(recipe, variant.dx0, variant.required, hospital.level),
                      list(variant.px), admitted, discharged, (admitted.date(), discharged.date()), los, way,
                      receiver, fees, pay(total, p, rng), outlier,
                      icu=recipe.severity == "1" and rng.random() < 0.3,
                      transfusion=recipe.surgical and recipe.severity == "1" and rng.random() < 0.2,
                      behaviours=behaviours, honest_drg=honest, alt_dialect=self._dialect[hospital.code])
        d.setl_id = setl_id(p.region, d)
        inject(d, p.faults, self.ref.faults, rng)
        return d

    def _diagnoses(self, recipe: DrgRecipe, dx0: str, required: tuple[str, ...], level: int) -> list[str]:
        rng, cat = self.rng, self.ref.catalogue
        codes = [dx0, *required]
        if recipe.severity == "1":
            codes.append(cat.secondary_with("MCC", dx0, rng))
        elif recipe.severity == "3":
            codes.append(cat.secondary_with("CC", dx0, rng))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            codes.append(rng.choice(cat.neutral_pool))
        return list(dict.fromkeys(codes))

    def _discharge_way(self, recipe: DrgRecipe, hospital: Hospital) -> tuple[str, tuple[str, str] | None]:
        rng, p = self.rng, self.p
        death = p.death_rate * (p.death_rate_mcc_factor if recipe.severity == "1" else 1.0)
        roll = rng.random()
        if roll < death:
            return "5", None
        if roll < death + p.transfer_rate:
            others = [h for h in self.ref.hospitals if h.code != hospital.code and h.level >= hospital.level]
            if others and rng.random() < 0.7:
                target = rng.choice(others)
                return "2", (target.code, target.name)
            return "3", (f"H{hospital.county}9{rng.randint(0, 9999):04d}", "社区卫生服务中心")
        if roll < death + p.transfer_rate + 0.02:
            return "4", None
        return "1", None

    def _readmission(self, first: Discharge) -> Discharge | None:
        """The same person back within 15 days for a related diagnosis (split admission)."""
        rng = self.rng
        back = first.discharged.date() + timedelta(days=rng.randint(1, 14))
        if back.year != self.p.year or back.month > self.p.months:
            return None
        years, _ = _age(first.person.birth, back)
        low, high = first.variant.profile.years
        if not low <= years <= high:
            return None
        follow = self._build(first.hospital, first.recipe, cost_basis=first.recipe, discharge_day=back,
                             behaviours=["SPLIT_ADMISSION"], person=first.person, admitted_on=back,
                             variant=first.variant)
        if follow.settlement[1] > self._last_day:
            return None  # discharged after the period generated
        follow.related_setl_id = first.setl_id
        return follow

    def _write(self, d: Discharge) -> tuple[dict[str, Any], dict[str, Any]]:
        seq = self._seq[d.hospital.code] = self._seq.get(d.hospital.code, 0) + 1
        return request(self.p.region, d, self.ref.names, seq), truth(self.p.region, d)


def _sibling(recipes: tuple[DrgRecipe, ...], severity: str) -> DrgRecipe | None:
    return next((r for r in recipes if r.severity == severity), None)


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def _times(discharge_day: date, los: int, rng: random.Random) -> tuple[datetime, datetime]:
    """Admission and discharge times with date difference ``los`` (a 1-day stay may be same-day)."""
    gap = 0 if los == 1 and rng.random() < 0.3 else los
    admitted = datetime.combine(discharge_day - timedelta(days=gap), datetime.min.time()) + timedelta(
        minutes=rng.randint(7 * 60, 11 * 60) if gap == 0 else rng.randint(0, 23 * 60))
    discharged = datetime.combine(discharge_day, datetime.min.time()) + timedelta(minutes=rng.randint(12 * 60,
                                                                                                       17 * 60))
    return admitted, discharged


def _age(birth: date, on: date) -> tuple[int, int | None]:
    from .people import age_years

    years = age_years(birth, on)
    return years, (on - birth).days if years == 0 else None
