"""The prefecture: its counties, designated hospitals and insurance doctors."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .mix import GENERAL, Department, department_shares
from .params import SynthParams

_TYPES = (("general", "人民医院", 0.7), ("tcm", "中医院", 0.2), ("specialty", "妇幼保健院", 0.1))
"""(kind, name suffix, share of hospitals). Maternal and child health hospitals are county (secondary) or
prefecture (tertiary) institutions under the 妇幼保健机构评审 grading: a primary hospital is never one."""
_BEDS = {3: (800, 2500), 2: (200, 800), 1: (30, 150)}
_ORDINALS = "第一第二第三第四第五第六"


@dataclass(frozen=True, slots=True)
class Hospital:
    code: str
    name: str
    county: str
    county_name: str
    level: int
    kind: str
    beds: int
    aggressive: bool
    doctors: tuple[str, ...]
    staff: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Department code -> its doctors, largest department first (a hospital has the departments its case mix
    needs: small ones only general medicine and surgery, obstetrics and gynaecology)."""

    def doctors_of(self, department: Department, surgical: bool) -> tuple[str, tuple[str, ...]]:
        """(department code, doctors) where this hospital treats a case of ``department``: that department,
        else general surgery or medicine, else its largest department."""
        staff = dict(self.staff)
        for code in (department.code, GENERAL["surgical" if surgical else "medical"].code):
            if code in staff:
                return code, staff[code]
        return self.staff[0]


@dataclass(frozen=True, slots=True)
class Doctor:
    code: str
    name: str
    hospital: str
    department: str


class RegionError(ValueError):
    pass


def counties_of(region: str, counties: Sequence[tuple[str, str, str]],
                cities: Mapping[str, str]) -> list[tuple[str, str]]:
    """(code, name) of the counties of a prefecture; the region must be a 6-digit prefecture code ending in 00."""
    if len(region) != 6 or not region.isdigit() or not region.endswith("00") or region.endswith("0000"):
        raise RegionError(f"--region must be a 6-digit prefecture code ending in 00 (e.g. 330700), got {region!r}")
    if region[:4] not in cities:
        raise RegionError(f"prefecture {region} is not in codes/admin-divisions/cities.csv")
    found = [(code, name) for code, name, city in counties if city == region[:4]]
    if not found:
        raise RegionError(f"prefecture {region} has no counties in codes/admin-divisions/counties.csv")
    return found


def build_hospitals(params: SynthParams, counties: list[tuple[str, str]], prefecture_name: str,
                    rng: random.Random) -> tuple[list[Hospital], list[Doctor]]:
    levels = _levels(params, rng)
    aggressive = set(rng.sample(range(params.hospitals), min(params.aggressive_hospitals, params.hospitals)))
    serials: dict[str, int] = {}
    hospitals: list[Hospital] = []
    doctors: list[Doctor] = []
    for i, level in enumerate(levels):
        county, county_name = counties[0] if level == 3 and i == 0 else rng.choice(counties)
        kind, suffix, _ = rng.choices(_TYPES, [w for *_, w in _TYPES])[0]
        if kind == "specialty" and level == 1:  # the same draws as before: the rest of the prefecture stays
            kind, suffix, _ = _TYPES[0]
        serials[county] = serials.get(county, 0) + 1
        code = f"H{county}{rng.randint(1, 899) * 100 + serials[county]:05d}"
        place = prefecture_name if level == 3 else county_name
        name = f"{place}{_ORDINALS[(serials[county] - 1) % 6 * 2:(serials[county] - 1) % 6 * 2 + 2]}{suffix}"
        beds = rng.randint(*_BEDS[level])
        staff = _doctors(code, county, rng, len(doctors), staffing(department_shares(level, kind),
                                                                         max(6, beds // 25), general=level == 1))
        doctors += staff
        by_dept: dict[str, list[str]] = {}
        for d in staff:
            by_dept.setdefault(d.department, []).append(d.code)
        hospitals.append(Hospital(code, name, county, county_name, level, kind, beds, i in aggressive,
                                  tuple(d.code for d in staff),
                                  tuple((dept, tuple(codes)) for dept, codes in by_dept.items())))
    return hospitals, doctors


def _levels(params: SynthParams, rng: random.Random) -> list[int]:
    tertiary, secondary, _ = params.level_mix
    n = params.hospitals
    n3 = max(1, round(n * tertiary))
    n2 = min(n - n3, round(n * secondary))
    levels = [3] * n3 + [2] * n2 + [1] * (n - n3 - n2)
    return levels[:n]


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN_NAMES = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华建国玉兰志红春梅海燕文斌晨宇浩然欣怡子涵雨婷俊杰"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_NAMES)
    return rng.choice(SURNAMES) + (given + rng.choice(GIVEN_NAMES) if rng.random() < 0.67 else given)


def _doctors(hospital: str, county: str, rng: random.Random, offset: int,
             departments: list[Department]) -> list[Doctor]:
    """One doctor per department seat (a doctor per 25 beds, at least 6, spread over departments by the
    hospital's expected case mix), largest department first."""
    return [Doctor(f"D{county}{offset + i + 1:06d}", person_name(rng), hospital, dept.code)
            for i, dept in enumerate(departments)]


def staffing(shares: Mapping[Department, float], count: int, *, general: bool) -> list[Department]:
    """``count`` departments (repeated per doctor) in proportion to ``shares``; with ``general`` (primary
    hospitals) every medical or surgical specialty folds into general medicine or surgery."""
    if general:
        folded: dict[Department, float] = {}
        for dept, share in shares.items():
            kept = GENERAL["medical"] if dept.code.startswith(("A03", "A16", "A19", "A13", "A15", "A21", "A28")) \
                else GENERAL["surgical"] if dept.code.startswith(("A04", "A10", "A11")) else dept
            folded[kept] = folded.get(kept, 0.0) + share
        shares = folded
    total = sum(shares.values())
    ranked = sorted(shares.items(), key=lambda item: (-item[1], item[0].code))
    quotas = [(dept, share / total * count) for dept, share in ranked]
    seats = {dept: int(quota) for dept, quota in quotas}
    for dept, _ in sorted(quotas, key=lambda q: (-(q[1] - int(q[1])), q[0].code))[:count - sum(seats.values())]:
        seats[dept] += 1
    return [dept for dept, _ in ranked for _ in range(seats[dept])]
