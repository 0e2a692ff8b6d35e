"""Hand-made stays, fee lines and knowledge items for the pure rule tests."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from libs.national.fees import FeeLine, scaled
from services.evaluation.adapters.review.files import DEFAULT_RULESET, knowledge_from_text, read_ruleset
from services.evaluation.domain.review.engine import Reviewer
from services.evaluation.domain.review.knowledge import KnowledgeLibrary
from services.evaluation.domain.review.model import Flag, Group, Stage, Stay
from services.evaluation.domain.review.rules import Context

HEADER = "code,name,kind,med_chrgitm_type,price,sex_limit,min_age,max_age,max_daily_cnt,exclusive_with\n"
ITEMS = HEADER + "\n".join([
    "PSA,前列腺特异性抗原测定,service,04,55.00,1,,,1,",
    "HPV,人乳头瘤病毒核酸检测,service,04,180.00,2,,,1,",
    "PED,小儿颗粒,drug,09,1.20,,,14,3,",
    "ADULT,成人片,drug,09,4.20,,18,75,2,",
    "BED,床位费,service,01,45.00,,,,1,",
    "DRIP,静脉输液,service,05,8.50,,,,4,",
    "LIVER,肝功能全套,service,04,96.00,,,,1,ALT;TBIL",
    "ALT,丙氨酸氨基转移酶测定,service,04,7.00,,,,,",
    "TBIL,总胆红素测定,service,04,6.50,,,,1,",
    "HALF,半片药,drug,09,0.80,,,,1.5,",
]) + "\n"


def knowledge(text: str = ITEMS) -> KnowledgeLibrary:
    return knowledge_from_text(text, version="test-1")


def line(sn: str, code: str, time: str, cnt: str = "1", pric: str = "10.00", *, amount: str | None = None,
         category: str = "05", refers_to: str = "") -> FeeLine:
    c, p = scaled(cnt), scaled(pric)
    assert c is not None and p is not None
    fen = round(float(amount) * 100) if amount is not None else c * p // 10**10
    return FeeLine(sn, code, category, time, c, p, fen, "M1", refers_to)


def stay(*lines: FeeLine, **changes: Any) -> Stay:
    base = Stay(fixmedins_code="H33070200011", setl_id="S1", mdtrt_id="M1", psn_no="P1", sex=1, age_years=40,
                stated_age=40, admitted=datetime(2026, 3, 1, 10, 0), discharged=datetime(2026, 3, 5, 11, 0),
                discharge_way="1", dept="A03", doctor="D1", diagnoses=("J18.900",), procedures=(),
                total_fen=sum(x.amount for x in lines), category_fen=None, details=tuple(lines),
                has_details=bool(lines), birth=date(1985, 6, 1))
    return dataclasses.replace(base, **changes)


def reviewer(library: KnowledgeLibrary | None = None, stage: Stage = Stage.AFTER, **context: Any) -> Reviewer:
    return Reviewer(read_ruleset(DEFAULT_RULESET), Context(library or knowledge(), **context), stage)


def flags(s: Stay, category: str | None = None, **kwargs: Any) -> list[Flag]:
    found = reviewer(**kwargs).check_stay(s)
    return [f for f in found if category is None or f.category.value == category]


def grouped(s: Stay, drg: str) -> Stay:
    return dataclasses.replace(s, group=Group(drg, drg[:3], drg[0]))
