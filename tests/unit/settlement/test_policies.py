"""Policy versions before they are stored: canonical parameters, the DIP rule, dates within the year, and
every bad parameter named by its key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from libs.common.errors import InvalidArgument
from services.settlement.domain.errors import ParameterError
from services.settlement.domain.policies import GroupScheme, draft_policy, parameters_digest


def params(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"method": "points", "scale": 100, "weights": {"years": [2024, 2025]},
                            "levels": {"3": {"coefficient": "1.1"}}, "budget": "1000000.00",
                            "provisional_point_value": "8.5", "advance_share": "0.9"}
    base.update(changes)
    return base


def test_a_draft_is_canonical_and_spans_the_year_by_default() -> None:
    draft = draft_policy("330700", 2026, params(), group_scheme=GroupScheme.DRG, description="first")
    assert (draft.effective_start, draft.effective_end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert draft.parameters["scale"] == "100"
    assert draft.parameters["levels"]["3"] == {"coefficient": "1.1", "high_k": "3"}
    assert draft.parameters["special_cases"] == {"approved": [], "cap_share": "0.05"}
    spelled_otherwise = draft_policy("330700", 2026, params(scale="100", budget=Decimal("1000000.00")),
                                     group_scheme=GroupScheme.DRG)
    assert spelled_otherwise.digest == draft.digest == parameters_digest(draft.parameters)


@pytest.mark.parametrize(("change", "key"), [
    ({"method": "fee"}, "method"),
    ({"budget": None}, "budget"),
    ({"levels": {"4": {}}}, "levels.4"),
    ({"levels": {"2": {"high_k": "x"}}}, "levels.2.high_k"),
    ({"advance_share": "1.5"}, "advance_share"),
    ({"colour": "red"}, "colour"),
    ({"special_cases": {"approved": ["c1"]}}, "special_cases.approved"),
])
def test_a_bad_parameter_is_named(change: dict[str, Any], key: str) -> None:
    raw = {k: v for k, v in params(**change).items() if v is not None}
    with pytest.raises(ParameterError) as refused:
        draft_policy("330700", 2026, raw, group_scheme=GroupScheme.DRG)
    assert refused.value.name == key
    assert refused.value.reason == "INVALID_PARAMETER"


def test_dip_settles_by_points() -> None:
    rate = params(method="rate")
    rate.pop("budget")
    with pytest.raises(ParameterError) as refused:
        draft_policy("330700", 2026, rate, group_scheme=GroupScheme.DIP)
    assert refused.value.name == "method"
    dip = draft_policy("330700", 2026, params(scale=1000), group_scheme=GroupScheme.DIP)
    assert (dip.group_scheme, dip.parameters["scale"]) == (GroupScheme.DIP, "1000")


@pytest.mark.parametrize(("start", "end", "field"), [
    (date(2025, 12, 31), None, "policy.effective_dates.start_date"),
    (None, date(2027, 1, 1), "policy.effective_dates.end_date"),
    (date(2026, 7, 1), date(2026, 6, 30), "policy.effective_dates"),
])
def test_effective_dates_lie_within_the_year(start: date | None, end: date | None, field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        draft_policy("330700", 2026, params(), group_scheme=GroupScheme.DRG, start=start, end=end)
    assert refused.value.violations[0].field == field
