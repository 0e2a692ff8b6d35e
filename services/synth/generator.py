"""The generator: a seeded, streaming walk through a prefecture's discharges, day by day.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same parameters and seed give
byte-identical output; stays are yielded one by one in discharge-day order (memory stays flat for any number of
lists: only readmissions already decided and a few months of discharge dates per person are held).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from .catalogue import Catalogue, DrgRecipe, Profile, Variant
from .costs import CostModel, FeeItem, length_of_stay, split_fees
from .draw import Discharge, HisStyle, RecordEvent
from .faults import FaultContext, inject
from .fees import FeeDetails
from .items import catalogue
from .lists import request, truth
from .mix import MATERNAL_YEARS, adrg_kind, age_band, age_lean, base_mix, death_factor, department_of, hospital_mix
from .params import SynthParams
from .payment import Settlement, settle, without_late_charges
from .people import Person, Population, age_years, insutype_at

ADULT_BANDS = ("adult", "elderly")
MAX_LOS = 90
# Discharges by weekday, Monday first: fewer at weekends (wards discharge on working days).
WEEKDAY_WEIGHTS = (11, 11, 11, 11, 11, 7, 5)
MATERNAL = Profile("maternal", MATERNAL_YEARS)


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
    hospitals: Sequence[Any]
    faults: FaultContext
    counties: Mapping[str, str]  # the prefecture's counties: code -> name


class Generator:
    def __init__(self, params: SynthParams, ref: Reference) -> None:
        self.p = params
        self.ref = ref
        self.rng = FastRandom(params.seed)
        self.costs = CostModel(params, params.seed)
        self.people = Population(params.region, self.rng, params.returning_person_rate, list(ref.counties))
        self._serial = itertools.count(1)
        self._seq: dict[str, int] = {}
        recipes = ref.catalogue.recipes
        self._adrgs = list(recipes)
        pairs = [(recipes[step][0].adrg, recipes[step][0].mdc) for step in self._adrgs]
        base = base_mix(pairs, params.seed, params.zipf_exponent)
        self._mix = {h.code: list(itertools.accumulate(hospital_mix(pairs, base, h.level, h.kind)))
                     for h in ref.hospitals}
        self._variant_cum: dict[str, list[float]] = {}
        self._staff: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
        self._comorbidities: dict[tuple[int, int], list[tuple[float, str]]] = {}
        self._hospital_cum = list(itertools.accumulate(h.beds for h in ref.hospitals))
        self._end = datetime.combine(params.last_day, datetime.max.time().replace(microsecond=0))
        self._style = {h.code: HisStyle(None if i % 3 == 0 else "", i % 4 == 1, i % 5 == 4)
                       for i, h in enumerate(ref.hospitals)}
        self.fee_details = (FeeDetails(catalogue(), params.seed, params.item_behaviours)
                            if params.fee_details else None)

    def lists(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(request, truth) pairs in discharge order, exactly ``cases`` of them (the stays' records aside)."""
        for d in self.stays():
            if d.listed:
                yield self.written(d)

    def written(self, d: Discharge) -> tuple[dict[str, Any], dict[str, Any]]:
        """A listed stay as its 4101A request (in the run's form) and its truth line."""
        seq = self._seq[d.hospital.code] = self._seq.get(d.hospital.code, 0) + 1
        return request(self.p.region, d, self.ref.names, seq, rich=self.p.rich_lists), truth(d)

    def fee_request(self, d: Discharge) -> dict[str, Any] | None:
        """A listed stay's 2301 fee details (before ``written``: planted item behaviours go into its truth)."""
        return None if self.fee_details is None else self.fee_details.request(d, d.department)

    def stays(self) -> Iterator[Discharge]:
        """Every stay in discharge-day order: exactly ``cases`` listed ones, and the cancelled settlements
        (``listed`` False) the core system reverses for good."""
        pending: list[tuple[int, int, Discharge]] = []  # readmissions already decided, by discharge day
        committed = 0
        for day, target in self._day_targets():
            self.people.forget_before(day)
            while pending and pending[0][0] <= day.toordinal():
                yield heapq.heappop(pending)[2]
            while committed < target:
                if self.rng.random() < self.p.cancelled_settlement_rate:
                    cancelled = self._discharge(day)
                    if self._cancel(cancelled):
                        yield cancelled
                d = self._discharge(day)
                committed += 1
                if committed < self.p.cases:
                    follow = self._maybe_readmission(d)
                    if follow is not None:
                        heapq.heappush(pending, (follow.period[1].toordinal(), follow.serial, follow))
                        committed += 1
                yield d
        while pending:  # none is left: readmissions are only decided inside the period
            yield heapq.heappop(pending)[2]

    def _day_targets(self) -> Iterator[tuple[date, int]]:
        """(day, lists committed by its end): months share the lists equally, days by weekday."""
        base, extra = divmod(self.p.cases, self.p.months)
        done = 0
        for m, start in enumerate(self.p.month_starts()):
            count = base + (1 if m < extra else 0)
            days = [start + timedelta(days=i) for i in range(_days_in(start.year, start.month))]
            weights = [WEEKDAY_WEIGHTS[day.weekday()] for day in days]
            whole, acc = sum(weights), 0
            for day, w in zip(days, weights, strict=True):
                acc += w
                yield day, done + count * acc // whole
            done += count

    def _discharge(self, day: date) -> Discharge:
        rng = self.rng
        hospital = self.ref.hospitals[bisect.bisect(self._hospital_cum, rng.random() * self._hospital_cum[-1])]
        cum = self._mix[hospital.code]
        adrg = self._adrgs[min(len(cum) - 1, bisect.bisect(cum, rng.random() * cum[-1]))]
        recipe = self._severity(self.ref.catalogue.recipes[adrg], hospital.level)
        behaviours: list[str] = []
        cost_basis, honest = recipe, ""
        if hospital.aggressive and recipe.severity == "5" and rng.random() < self.p.upcoding_rate:
            upcoded = _sibling(self.ref.catalogue.recipes[adrg], "1")
            if upcoded is not None:
                recipe, honest = upcoded, cost_basis.drg
                behaviours.append("UPCODED")
        return self._build(hospital, recipe, cost_basis=cost_basis, discharge_day=day, behaviours=behaviours,
                           honest=honest)

    def _severity(self, recipes: tuple[DrgRecipe, ...], level: int) -> DrgRecipe:
        if len(recipes) == 1:
            return recipes[0]
        mcc, cc = self.p.mcc_rate_by_level[level], self.p.cc_rate_by_level[level]
        weights = [{"1": mcc, "3": cc, "5": max(0.0, 1 - mcc - cc)}.get(r.severity, 0.3) for r in recipes]
        return self.rng.choices(recipes, weights)[0]

    def _build(self, hospital: Any, recipe: DrgRecipe, *, cost_basis: DrgRecipe, discharge_day: date,
               behaviours: list[str], honest: str = "", person: Person | None = None,
               variant: Variant | None = None, admitted_on: date | None = None) -> Discharge:
        rng, p = self.rng, self.p
        variant = variant or self._variant(recipe)
        expected, expected_los = self.costs.expected(cost_basis, hospital.level)
        cost, outlier = self.costs.draw(expected, rng)
        los = min(MAX_LOS, length_of_stay(expected_los, cost / expected, rng))
        if (not recipe.surgical and variant.profile.name in ADULT_BANDS and not behaviours and person is None
                and rng.random() < p.low_standard_admission_rate):
            cost, los, outlier = expected * rng.uniform(0.15, 0.35), rng.randint(1, 2), "low"
            behaviours.append("LOW_STANDARD_ADMISSION")
        if admitted_on is not None:
            discharge_day = admitted_on + timedelta(days=los)
        admitted, discharged = _times(discharge_day, los, rng)
        if person is None:
            person, years, days = self.people.person_for(variant.sex, variant.profile, admitted.date(),
                                                         hospital.county)
        else:
            years, days = _age(person.birth, admitted.date())
        self.people.discharged(person, discharged.date())
        weight = rng.randint(*variant.profile.weight_g) // 10 * 10 if variant.profile.weight_g else None
        total = max(1_000, int(cost * 100))
        fees = split_fees(total, "newborn" if days is not None and days <= 28 else
                          "surgical" if recipe.surgical else "medical", hospital.kind == "tcm", rng)
        insutype = insutype_at(person, years)
        paid = settle(fees, person=person, insutype=insutype, years=years, level=hospital.level, policy=p.policy,
                      rng=rng)
        way, receiver = self._discharge_way(recipe, hospital, years)
        if way == "5":
            self.people.died(person)
        department, doctors = self._department(hospital, recipe)
        doctor = rng.choice(doctors)
        serial = next(self._serial)
        d = Discharge(serial, hospital, self._style[hospital.code], doctor, person, insutype, years, days, weight,
                      recipe, variant, self._diagnoses(recipe, variant.dx0, variant.required, person.sex, years),
                      list(variant.px), admitted, discharged, (admitted.date(), discharged.date()), los, way,
                      receiver, fees, paid, outlier,
                      icu=recipe.severity == "1" and rng.random() < 0.3,
                      transfusion=recipe.surgical and recipe.severity == "1" and rng.random() < 0.2,
                      emergency=rng.random() < (0.15 if recipe.surgical else 0.35),
                      behaviours=behaviours, honest_drg=honest)
        d.setl_id = self._setl_id(discharged.date(), serial)
        d.department = department
        day = d.period[0]
        d.mdtrt_id = f"{p.region}M{day.year:04d}{day.month:02d}{day.day:02d}{serial:08d}"
        self._record_story(d)
        inject(d, p.faults, self.ref.faults, rng, rich=p.rich_lists)
        return d

    def _setl_id(self, day: date, serial: int) -> str:
        return f"{self.p.region}S{day.year:04d}{day.month:02d}{day.day:02d}{serial:08d}"

    def _record_story(self, d: Discharge) -> None:
        """What the core system sends about the stay: one settlement, or a revision of it some days later, or a
        settlement reversed and made anew (a new setl_id, which the list carries). Nothing after the period."""
        rng, p = self.rng, self.p
        settled = d.discharged + timedelta(minutes=rng.randint(5, 90))
        roll = rng.random()
        if roll < p.record_revision_rate:
            revised = settled + timedelta(minutes=rng.randint(24 * 60, 20 * 24 * 60))
            if revised <= self._end:
                if rng.random() < 0.7:
                    first = self._resettle(d, without_late_charges(d.fees, rng))
                    d.story, person = "REVISED_MONEY", d.person
                else:
                    first, person = d.paid, _mistyped(d.person, d.age_years, rng)
                    d.story = "REVISED_DEMOGRAPHICS"
                d.records = [RecordEvent(settled, "2304", d.setl_id, first, person),
                             RecordEvent(revised, "2304", d.setl_id, d.paid, d.person)]
        elif roll < p.record_revision_rate + p.resettlement_rate:
            reversed_at = settled + timedelta(minutes=rng.randint(10, 3 * 24 * 60))
            again = reversed_at + timedelta(minutes=rng.randint(5, 60))
            if again <= self._end:
                first = self._resettle(d, without_late_charges(d.fees, rng))
                first_id = self._setl_id(settled.date(), next(self._serial))
                d.story = "RESETTLED"
                d.records = [RecordEvent(settled, "2304", first_id, first, d.person),
                             RecordEvent(reversed_at, "2305", first_id, first, d.person),
                             RecordEvent(again, "2304", d.setl_id, d.paid, d.person)]
                settled = again
        if not d.records:
            d.records = [RecordEvent(settled, "2304", d.setl_id, d.paid, d.person)]
        delay = timedelta(hours=1 + d.serial % 71, seconds=d.serial % 59)
        d.sent_at = min(settled + delay, self._end)

    def _resettle(self, d: Discharge, fees: list[FeeItem]) -> Settlement:
        return settle(fees, person=d.person, insutype=d.insutype, years=d.age_years, level=d.hospital.level,
                      policy=self.p.policy, rng=self.rng)

    def _cancel(self, d: Discharge) -> bool:
        """Make ``d`` a settlement reversed for good (the patient settled privately after all): no list."""
        first = d.records[0]
        reversed_at = first.at + timedelta(minutes=self.rng.randint(30, 5 * 24 * 60))
        if reversed_at > self._end or d.story:
            return False
        d.story, d.listed = "CANCELLED", False
        d.records = [first, RecordEvent(reversed_at, "2305", first.setl_id, first.paid, first.person)]
        return True

    def _variant(self, recipe: DrgRecipe) -> Variant:
        """A calibrated way into the DRG, its patient band weighted by who has the ADRG (strokes and coronary
        disease in the elderly, upper-respiratory infections in children)."""
        cum = self._variant_cum.get(recipe.drg)
        if cum is None:
            lean = age_lean(recipe.adrg)
            cum = self._variant_cum[recipe.drg] = list(itertools.accumulate(
                lean.get(v.profile.name, 1.0) for v in recipe.variants))
        variant = recipe.variants[min(len(cum) - 1, bisect.bisect(cum, self.rng.random() * cum[-1]))]
        if recipe.mdc == "O" and variant.profile.days is None:
            return replace(variant, profile=MATERNAL)
        return variant

    def _department(self, hospital: Any, recipe: DrgRecipe) -> tuple[str, tuple[str, ...]]:
        """(department code, its doctors): the specialty of the case where the hospital has it."""
        key = (hospital.code, recipe.adrg)
        found = self._staff.get(key)
        if found is None:
            specialty = department_of(recipe.adrg, recipe.mdc)
            found = self._staff[key] = hospital.doctors_of(specialty, adrg_kind(recipe.adrg) != "medical") \
                if hospital.staff else (specialty.code, tuple(hospital.doctors))
        return found

    def _diagnoses(self, recipe: DrgRecipe, dx0: str, required: tuple[str, ...], sex: int, years: int) -> list[str]:
        """The principal, what the DRG's rule needs, the complication its severity needs, and the chronic
        conditions an adult of this age and sex has (mix.COMORBIDITIES)."""
        rng, cat = self.rng, self.ref.catalogue
        codes = [dx0, *required]
        if recipe.severity == "1":
            codes.append(cat.secondary_with("MCC", dx0, rng))
        elif recipe.severity == "3":
            codes.append(cat.secondary_with("CC", dx0, rng))
        if years >= 18:
            key = (age_band(years), sex)
            table = self._comorbidities.get(key)
            if table is None:
                table = self._comorbidities[key] = [
                    (c.prevalence[key[0]] * (c.women if sex == 2 else 1.0), code)
                    for c, code in cat.comorbidities if not c.sex or c.sex == sex]
            random_ = rng.random
            codes += [code for share, code in table if random_() < share]
        return list(dict.fromkeys(codes))

    def _discharge_way(self, recipe: DrgRecipe, hospital: Any, years: int) -> tuple[str, tuple[str, str] | None]:
        rng, p = self.rng, self.p
        death = min(0.3, p.death_rate * death_factor(recipe.adrg, recipe.mdc, recipe.severity, years)
                    * (p.death_rate_mcc_factor if recipe.severity == "1" else 1.0))
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

    def _maybe_readmission(self, first: Discharge) -> Discharge | None:
        """The same person back within 15 days for a related diagnosis (split admission), decided now and
        yielded on its discharge day."""
        rng = self.rng
        if not (first.listed and first.discharge_way == "1" and first.age_days is None
                and rng.random() < self.p.split_admission_rate):
            return None
        back = first.period[1] + timedelta(days=rng.randint(1, 14))  # period: the times before any fault
        years, _ = _age(first.person.birth, back)
        low, high = first.variant.profile.years
        if back > self.p.last_day or not low <= years <= high:
            return None
        follow = self._build(first.hospital, first.recipe, cost_basis=first.recipe, discharge_day=back,
                             behaviours=["SPLIT_ADMISSION"], person=first.person, variant=first.variant,
                             admitted_on=back)
        if follow.period[1] > self.p.last_day or not follow.listed:
            return None  # discharged after the period generated
        follow.related_setl_id = first.setl_id
        first.related_setl_id, first.split_role, follow.split_role = follow.setl_id, "index", "readmission"
        return follow


def _mistyped(person: Person, years: int, rng: random.Random) -> Person:
    """The person as a clerk first keyed them in: a birth year off by one to three (never after the stay), or
    the other sex."""
    if rng.random() < 0.3:
        return person._replace(sex=3 - person.sex)
    year = person.birth.year + rng.choice((-3, -2, -1, 1, 2, 3) if years > 3 else (-3, -2, -1))
    day = min(person.birth.day, 28) if person.birth.month == 2 else person.birth.day
    return person._replace(birth=person.birth.replace(year=year, day=day))


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
    years = age_years(birth, on)
    return years, (on - birth).days if years == 0 else None
