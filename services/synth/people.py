"""Insured persons: persistent ``psn_no`` with a fixed sex and birth date, seen again across the year."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import NamedTuple

from .catalogue import Profile
from .region import person_name

POOL_CAP = 20_000
"""Returning persons are drawn from a bounded pool per (sex, profile): memory stays flat for any run size."""


class Person(NamedTuple):
    """An insured person (an immutable tuple: thousands are made per run)."""

    psn_no: str
    name: str
    sex: int
    birth: date
    insutype: str  # 310 employees' insurance, 390 urban-rural residents'


class Population:
    def __init__(self, region: str, year: int, rng: random.Random, returning_rate: float) -> None:
        self._region = region
        self._year = year
        self._rng = rng
        self._returning = returning_rate
        self._pools: dict[tuple[int, str], list[Person]] = {}
        self._serial = 0

    def person_for(self, sex: int, profile: Profile, admitted: date) -> tuple[Person, int, int | None]:
        """A person of this sex whose age at ``admitted`` is in the profile's band: (person, years, days)."""
        key = (sex, profile.name)
        pool = self._pools.setdefault(key, [])
        if profile.days is None and pool and self._rng.random() < self._returning:
            person = self._rng.choice(pool)
            years = age_years(person.birth, admitted)
            if profile.years[0] <= years <= profile.years[1]:
                return person, years, None
        person, years, days = self._new(sex, profile, admitted)
        if profile.days is None:
            if len(pool) < POOL_CAP:
                pool.append(person)
            else:
                pool[self._rng.randrange(POOL_CAP)] = person
        return person, years, days

    def _new(self, sex: int, profile: Profile, admitted: date) -> tuple[Person, int, int | None]:
        self._serial += 1
        rng = self._rng
        if profile.days is not None:
            days = rng.randint(*profile.days)
            birth = admitted - timedelta(days=days)
            years, result_days = 0, days
        else:
            years = rng.randint(*profile.years)
            birth = _birth_for_age(admitted, years, rng)
            result_days = None
        insutype = "310" if 18 <= years < 70 and rng.random() < 0.55 else "390"
        psn_no = f"{self._region}{birth.year:04d}{self._serial:010d}"
        return Person(psn_no, person_name(rng), sex, birth, insutype), years, result_days


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
