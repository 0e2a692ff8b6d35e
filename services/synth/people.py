"""Insured persons: stable identities with a fixed sex and birth date, seen again across the period.

A person is identified by (county, birth date, sex, k) with ``k`` below ``PER_BIRTH_DATE``: about as many insured
people of one sex as a county registers per birth date. Everything else about the person (``psn_no``, the
18-character resident ID, name, insurance type, occupation) is derived from that identity, never drawn, so two
runs over different periods of the same prefecture (a base period and the current year) meet the same people
under the same numbers.
"""

from __future__ import annotations

import operator
import random
from datetime import date, timedelta
from typing import NamedTuple

from .catalogue import Profile
from .region import GIVEN_NAMES, SURNAMES

POOL_CAP = 20_000
"""Returning persons are drawn from a bounded pool per (sex, profile): memory stays flat for any run size."""
PER_BIRTH_DATE = 400
"""Identities per (county, birth date, sex): the ID number's 3-digit sequence holds 500 of each parity."""
READMISSION_DAYS = 15
"""A person is not admitted again within this many days of a discharge unless the generator means it (a split
admission): such pairs are what the review rules look for, so chance ones would blur the truth."""
MEMORY_DAYS = 120
"""Discharges older than this cannot matter (stays are capped at 90 days) and are forgotten: bounded memory."""


class Person(NamedTuple):
    """An insured person (an immutable tuple: thousands are made per run)."""

    psn_no: str
    name: str
    sex: int
    birth: date
    insutype: str  # 310 employees' insurance, 390 urban-rural residents'
    certno: str    # 18-character resident ID number (GB 11643)
    trait: int     # a stable pseudo-random number of the identity, for its other attributes

    @property
    def civil_servant(self) -> bool:
        return self.insutype == "310" and self.trait % 100 < 6

    @property
    def assisted(self) -> bool:
        """A resident under medical aid (低保, 特困): about 4% of residents."""
        return self.insutype == "390" and self.trait % 97 < 4


class Population:
    def __init__(self, region: str, rng: random.Random, returning_rate: float,
                 counties: list[str]) -> None:
        self._region = region
        self._rng = rng
        self._returning = returning_rate
        self._pools: dict[tuple[int, str], list[Person]] = {}
        self._county_index = {c: i for i, c in enumerate(counties)}
        self._last_out: dict[str, int] = {}  # psn_no -> ordinal of the latest known discharge
        self._forgotten_before = 0
        self._dead: set[str] = set()

    def person_for(self, sex: int, profile: Profile, admitted: date,
                   county: str) -> tuple[Person, int, int | None]:
        """A person of this sex whose age at ``admitted`` is in the profile's band and who is not in hospital or
        just out of it: (person, years, days under one year)."""
        key = (sex, profile.name)
        pool = self._pools.setdefault(key, [])
        day = admitted.toordinal()
        if profile.days is None and pool and self._rng.random() < self._returning:
            person = self._rng.choice(pool)
            years = age_years(person.birth, admitted)
            if profile.years[0] <= years <= profile.years[1] and self.free(person, day) \
                    and person.psn_no not in self._dead:
                return person, years, None
        while True:
            person, years, days = self._new(sex, profile, admitted, county)
            if self.free(person, day):
                break
        if profile.days is None:
            if len(pool) < POOL_CAP:
                pool.append(person)
            else:
                pool[self._rng.randrange(POOL_CAP)] = person
        return person, years, days

    def free(self, person: Person, admission_day: int) -> bool:
        last = self._last_out.get(person.psn_no)
        return last is None or admission_day > last + READMISSION_DAYS

    def died(self, person: Person) -> None:
        """A person who died in hospital is not admitted again."""
        self._dead.add(person.psn_no)

    def discharged(self, person: Person, day: date) -> None:
        ordinal = day.toordinal()
        if ordinal > self._last_out.get(person.psn_no, 0):
            self._last_out[person.psn_no] = ordinal

    def forget_before(self, today: date) -> None:
        """Drop discharges that no admission from ``today`` on can come near (called now and then)."""
        horizon = today.toordinal() - MEMORY_DAYS
        if horizon - self._forgotten_before < 30:
            return
        self._forgotten_before = horizon
        self._last_out = {k: v for k, v in self._last_out.items() if v >= horizon}

    def _new(self, sex: int, profile: Profile, admitted: date, county: str) -> tuple[Person, int, int | None]:
        rng = self._rng
        if profile.days is not None:
            days = rng.randint(*profile.days)
            birth = admitted - timedelta(days=days)
            years, result_days = 0, days
        else:
            years = rng.randint(*profile.years)
            birth = _birth_for_age(admitted, years, rng)
            result_days = None
        return self.identity(county, birth, sex, rng.randrange(PER_BIRTH_DATE)), years, result_days

    def identity(self, county: str, birth: date, sex: int, k: int) -> Person:
        """The person of (county, birth date, sex, k): the same numbers and traits in every run."""
        # Births from 1900 to 2036 have ordinals within 50,000 days of 693,596 (1900-01-01).
        packed = ((self._county_index[county] * 50_000 + birth.toordinal() - 693_596) * 2 + sex - 1) * \
            PER_BIRTH_DATE + k
        number = (packed * 7_919_357_317 + 104_729) % 10**10  # a bijection of [0, 10^10): unique, not sequential
        trait = _mix(packed)
        insutype = "310" if trait % 100 < 48 else "390"
        psn_no = f"{self._region}{birth.year:04d}{number:010d}"
        sequence = 2 * (k % 500) + (1 if sex == 1 else 0)  # odd for men, even for women
        body = f"{county}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
        given = GIVEN_NAMES[trait // 7 % len(GIVEN_NAMES)]
        if trait % 3:
            given += GIVEN_NAMES[trait // 997 % len(GIVEN_NAMES)]
        name = SURNAMES[trait // 131 % len(SURNAMES)] + given
        return Person(psn_no, name, sex, birth, insutype, body + id_check_digit(body), trait)


def insutype_at(person: Person, years: int) -> str:
    """Children are insured as residents whatever their adult insurance will be."""
    return person.insutype if years >= 18 else "390"


def id_check_digit(body: str) -> str:
    """The 18th character of a resident ID number: ISO 7064 MOD 11-2 over the first 17 digits (GB 11643)."""
    return "10X98765432"[sum(map(operator.mul, map(int, body), _ID_WEIGHTS)) % 11]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _mix(x: int) -> int:
    """splitmix64's finaliser: a well-spread 64-bit number from an integer (stable across runs and platforms)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def age_years(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth_for_age(on: date, years: int, rng: random.Random) -> date:
    """A birth date at which the person is exactly ``years`` old on ``on``."""
    latest = _years_before(on, years)
    return latest - timedelta(days=rng.randint(0, 364))


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)
