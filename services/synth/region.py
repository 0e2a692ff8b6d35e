"""The prefecture: its counties, designated hospitals and insurance doctors."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .params import SynthParams

# National department codes (科室代码) the lists use as admission/discharge departments, by MDC.
DEPARTMENTS: Mapping[str, tuple[str, str]] = {
    "A": ("A02", "重症医学科"), "B": ("A03.06", "神经内科"), "C": ("A10", "眼科"), "D": ("A11", "耳鼻咽喉科"),
    "E": ("A03.01", "呼吸内科"), "F": ("A03.04", "心血管内科"), "G": ("A04.01", "普通外科"),
    "H": ("A03.02", "消化内科"), "I": ("A04.03", "骨科"), "J": ("A04.01", "普通外科"), "K": ("A03.07", "内分泌科"),
    "L": ("A04.04", "泌尿外科"), "M": ("A04.04", "泌尿外科"), "N": ("A05.01", "妇科"), "O": ("A05.02", "产科"),
    "P": ("A07.08", "新生儿科"), "Q": ("A03.05", "血液内科"), "R": ("A19", "肿瘤科"), "S": ("A03", "内科"),
    "T": ("A15", "精神科"), "U": ("A15", "精神科"), "V": ("A04", "外科"), "W": ("A04.06", "烧伤科"),
    "X": ("A03", "内科"), "Y": ("A16", "感染科"), "Z": ("A04", "外科"),
}
_TYPES = (("general", "人民医院", 0.7), ("tcm", "中医院", 0.2), ("specialty", "妇幼保健院", 0.1))
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
        serials[county] = serials.get(county, 0) + 1
        code = f"H{county}{rng.randint(1, 899) * 100 + serials[county]:05d}"
        place = prefecture_name if level == 3 else county_name
        name = f"{place}{_ORDINALS[(serials[county] - 1) % 6 * 2:(serials[county] - 1) % 6 * 2 + 2]}{suffix}"
        beds = rng.randint(*_BEDS[level])
        staff = _doctors(code, county, beds, rng, len(doctors))
        doctors += staff
        hospitals.append(Hospital(code, name, county, county_name, level, kind, beds, i in aggressive,
                                  tuple(d.code for d in staff)))
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


def _doctors(hospital: str, county: str, beds: int, rng: random.Random, offset: int) -> list[Doctor]:
    depts = sorted(set(DEPARTMENTS.values()))
    count = max(6, beds // 25)
    return [Doctor(f"D{county}{offset + i + 1:06d}", person_name(rng), hospital, depts[i % len(depts)][0])
            for i in range(count)]
