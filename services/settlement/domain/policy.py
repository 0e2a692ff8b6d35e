"""A region's settlement policy for one year: FORMAT.md's ``params.json`` as immutable values.

:func:`policy_from_json` validates a parsed parameter object (JSON numbers read as ``Decimal`` from their text)
and names the parameter at fault; :func:`policy_to_json` writes the canonical form back (every default filled
in, keys in a fixed order) so that a stored policy has one digest whatever spelling it arrived in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .errors import ParameterError

LEVELS = ("1", "2", "3")
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
ONE, ZERO = Decimal(1), Decimal(0)


class Method(StrEnum):
    POINTS = "points"
    RATE = "rate"


@dataclass(frozen=True)
class WeightParams:
    years: tuple[int, ...]
    year_weights: tuple[Decimal, ...]
    trim_percentiles: tuple[Decimal, Decimal] = (ZERO, Decimal(100))
    min_cases: int = 1
    exclude: frozenset[str] = frozenset()
    fixed: dict[str, Decimal] = field(default_factory=dict)

    @property
    def latest_year(self) -> int:
        return max(self.years)

    def year_weight(self, year: int) -> Decimal:
        return self.year_weights[self.years.index(year)]


@dataclass(frozen=True)
class LevelParams:
    coefficient: Decimal = ONE
    high_k: Decimal = Decimal(3)


@dataclass(frozen=True)
class HospitalParams:
    coefficient: Decimal | None = None
    """``None``: each case takes its own level's coefficient."""
    assessment: Decimal = ONE
    deductions: Decimal = ZERO


@dataclass(frozen=True)
class Band:
    up_to: Decimal | None
    k: Decimal


@dataclass(frozen=True)
class Policy:
    method: Method
    weights: WeightParams
    scale: Decimal = Decimal(100)
    levels: dict[str, LevelParams] = field(default_factory=dict)
    hospitals: dict[str, HospitalParams] = field(default_factory=dict)
    high_bands: tuple[Band, ...] = (Band(None, Decimal(3)),)
    low_ratio: Decimal = Decimal("0.4")
    readmission_days: int = 0
    approved_special_cases: tuple[str, ...] = ()
    special_cap_share: Decimal = Decimal("0.05")
    budget: Decimal | None = None
    adjustment_share: Decimal = ZERO
    provisional_point_value: Decimal = ZERO
    advance_share: Decimal = ZERO
    fixed_rates: dict[str, Decimal] = field(default_factory=dict)
    rate_adjust: Decimal = ONE

    def hospital(self, code: str) -> HospitalParams:
        return self.hospitals.get(code) or _DEFAULT_HOSPITAL

    def coefficient(self, hospital: str, level: str) -> Decimal:
        own = self.hospital(hospital).coefficient
        return own if own is not None else self.levels[level].coefficient

    def with_approved(self, case_ids: tuple[str, ...]) -> Policy:
        """The same policy with another list of approved special cases (the service keeps them apart)."""
        from dataclasses import replace

        return replace(self, approved_special_cases=case_ids)


_DEFAULT_HOSPITAL = HospitalParams()

_KEYS = {
    "": ("method", "scale", "weights", "levels", "hospitals", "high_bands", "low_ratio", "readmission_days",
         "special_cases", "budget", "adjustment_share", "provisional_point_value", "advance_share", "rates"),
    "weights": ("years", "year_weights", "trim_percentiles", "min_cases", "exclude", "fixed"),
    "level": ("coefficient", "high_k"),
    "hospital": ("coefficient", "assessment", "deductions"),
    "band": ("up_to", "k"),
    "special_cases": ("approved", "cap_share"),
    "rates": ("fixed", "adjust"),
}


def _given(raw: dict[str, Any], key: str, default: Any) -> Any:
    """The value of an optional key, ``default`` when it is absent or null; any other value, even an empty or
    false one of the wrong type (``[]`` for an object), is the caller's to check."""
    value = raw.get(key)
    return default if value is None else value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str, kind: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParameterError(path or "params", "must be a JSON object")
    for key in value:
        if key not in _KEYS[kind]:
            raise ParameterError(_join(path, key), "unknown parameter")
    return value


def _decimal(value: Any, path: str, *, money: bool = False, places: int | None = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ParameterError(path, f"must be a decimal string, not {_json_type(value)}")
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    if not (_MONEY if money else _DECIMAL).fullmatch(text):
        wanted = "a money string like \"1200.00\"" if money else "a non-negative decimal like \"0.85\""
        raise ParameterError(path, f"{text!r} is not {wanted}")
    number = Decimal(text)
    if places is not None and number != round(number, places):
        raise ParameterError(path, f"{text!r} has more than {places} decimals")
    return number


def _optional(raw: dict[str, Any], key: str, path: str, default: Decimal, **kw: Any) -> Decimal:
    value = raw.get(key)
    return default if value is None else _decimal(value, _join(path, key), **kw)


def _share(raw: dict[str, Any], key: str, path: str, default: Decimal) -> Decimal:
    share = _optional(raw, key, path, default)
    if share > 1:
        raise ParameterError(_join(path, key), f"{share} is not a share between 0 and 1")
    return share


def _count(raw: dict[str, Any], key: str, path: str, default: int) -> int:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(_join(path, key), f"must be a non-negative integer, not {value!r}")
    return value


def _json_type(value: Any) -> str:
    return {bool: "a boolean", type(None): "null", list: "a list", dict: "an object"}.get(type(value), "a number")


def _weights(raw: Any) -> WeightParams:
    if raw is None:
        raise ParameterError("weights", "required (at least weights.years)")
    w = _object(raw, "weights", "weights")
    years = w.get("years")
    if years is None:
        raise ParameterError("weights.years", "required: the base years")
    if (not isinstance(years, list) or not years
            or any(isinstance(y, bool) or not isinstance(y, int) for y in years)):
        raise ParameterError("weights.years", "must be a non-empty list of years")
    if len(set(years)) != len(years):
        raise ParameterError("weights.years", "lists a year twice")
    raw_weights = w.get("year_weights")
    if raw_weights is None:
        year_weights = tuple(ONE for _ in years)
    elif not isinstance(raw_weights, list) or len(raw_weights) != len(years):
        raise ParameterError("weights.year_weights", f"must list one weight per base year ({len(years)})")
    else:
        year_weights = tuple(_decimal(v, f"weights.year_weights[{i}]") for i, v in enumerate(raw_weights))
    trim = w.get("trim_percentiles")
    low, high = ZERO, Decimal(100)
    if trim is not None:
        if not isinstance(trim, list) or len(trim) != 2:
            raise ParameterError("weights.trim_percentiles", "must be two percentiles [low, high]")
        low, high = (_decimal(v, f"weights.trim_percentiles[{i}]") for i, v in enumerate(trim))
        if not low <= high <= 100:
            raise ParameterError("weights.trim_percentiles", "must satisfy 0 <= low <= high <= 100")
    exclude = _given(w, "exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(g, str) for g in exclude):
        raise ParameterError("weights.exclude", "must be a list of group codes")
    fixed = _given(w, "fixed", {})
    if not isinstance(fixed, dict):
        raise ParameterError("weights.fixed", "must be an object: group -> weight string")
    return WeightParams(
        years=tuple(years), year_weights=year_weights, trim_percentiles=(low, high),
        min_cases=_count(w, "min_cases", "weights", 1), exclude=frozenset(exclude),
        fixed={g: _decimal(v, f"weights.fixed.{g}", places=4) for g, v in fixed.items()})


def _levels(raw: Any) -> dict[str, LevelParams]:
    levels = {} if raw is None else raw
    if not isinstance(levels, dict):
        raise ParameterError("levels", "must be an object: level -> parameters")
    out = {}
    for name, entry in levels.items():
        if name not in LEVELS:
            raise ParameterError(f"levels.{name}", "unknown level (levels are \"1\", \"2\", \"3\")")
        path = f"levels.{name}"
        e = _object(entry, path, "level")
        out[name] = LevelParams(coefficient=_optional(e, "coefficient", path, ONE),
                                high_k=_optional(e, "high_k", path, Decimal(3)))
    return out


def _hospitals(raw: Any) -> dict[str, HospitalParams]:
    hospitals = {} if raw is None else raw
    if not isinstance(hospitals, dict):
        raise ParameterError("hospitals", "must be an object: institution code -> parameters")
    out = {}
    for code, entry in hospitals.items():
        path = f"hospitals.{code}"
        e = _object(entry, path, "hospital")
        coefficient = e.get("coefficient")
        out[code] = HospitalParams(
            coefficient=None if coefficient is None else _decimal(coefficient, f"{path}.coefficient"),
            assessment=_optional(e, "assessment", path, ONE),
            deductions=_optional(e, "deductions", path, ZERO, money=True))
    return out


def _bands(raw: Any) -> tuple[Band, ...]:
    if raw is None:
        return (Band(None, Decimal(3)),)
    if not isinstance(raw, list) or not raw:
        raise ParameterError("high_bands", "must be a non-empty list of {\"up_to\", \"k\"} bands")
    bands = []
    for i, entry in enumerate(raw):
        path = f"high_bands[{i}]"
        b = _object(entry, path, "band")
        if b.get("k") is None:
            raise ParameterError(f"{path}.k", "required")
        up_to = b.get("up_to")
        bands.append(Band(None if up_to is None else _decimal(up_to, f"{path}.up_to"), _decimal(b["k"], f"{path}.k")))
    return tuple(bands)


def policy_from_json(raw: Any) -> Policy:
    """Validate a parsed ``params.json`` (JSON floats as ``Decimal``) into a :class:`Policy`."""
    p = _object(raw, "", "")
    method = p.get("method")
    if method is None:
        raise ParameterError("method", "required: \"points\" or \"rate\"")
    if method not in ("points", "rate"):
        raise ParameterError("method", f"{method!r} is neither \"points\" nor \"rate\"")
    scale = _optional(p, "scale", "", Decimal(100))
    if scale == 0:
        raise ParameterError("scale", "must be positive")
    special = _object(_given(p, "special_cases", {}), "special_cases", "special_cases")
    approved = _given(special, "approved", [])
    if not isinstance(approved, list) or not all(isinstance(a, str) for a in approved):
        raise ParameterError("special_cases.approved", "must be a list of case ids")
    rates = _object(_given(p, "rates", {}), "rates", "rates")
    fixed_rates = _given(rates, "fixed", {})
    if not isinstance(fixed_rates, dict):
        raise ParameterError("rates.fixed", "must be an object: level -> rate")
    for name in fixed_rates:
        if name not in LEVELS:
            raise ParameterError(f"rates.fixed.{name}", "unknown level (levels are \"1\", \"2\", \"3\")")
    budget = p.get("budget")
    if method == "points" and budget is None:
        raise ParameterError("budget", "required for the point method")
    return Policy(
        method=Method(method), weights=_weights(p.get("weights")), scale=scale, levels=_levels(p.get("levels")),
        hospitals=_hospitals(p.get("hospitals")), high_bands=_bands(p.get("high_bands")),
        low_ratio=_optional(p, "low_ratio", "", Decimal("0.4")),
        readmission_days=_count(p, "readmission_days", "", 0),
        approved_special_cases=tuple(approved),
        special_cap_share=_share(special, "cap_share", "special_cases", Decimal("0.05")),
        budget=None if budget is None else _decimal(budget, "budget", money=True),
        adjustment_share=_share(p, "adjustment_share", "", ZERO),
        provisional_point_value=_optional(p, "provisional_point_value", "", ZERO),
        advance_share=_share(p, "advance_share", "", ZERO),
        fixed_rates={name: _decimal(v, f"rates.fixed.{name}", money=True) for name, v in sorted(fixed_rates.items())},
        rate_adjust=_optional(rates, "adjust", "rates", ONE))


def _text(value: Decimal) -> str:
    return str(value)


def policy_to_json(policy: Policy) -> dict[str, Any]:
    """The canonical parameter object: every default written out, decimals as strings, keys in FORMAT's order."""
    w = policy.weights
    out: dict[str, Any] = {
        "method": policy.method.value,
        "scale": _text(policy.scale),
        "weights": {"years": list(w.years), "year_weights": [_text(v) for v in w.year_weights],
                    "trim_percentiles": [_text(v) for v in w.trim_percentiles], "min_cases": w.min_cases,
                    "exclude": sorted(w.exclude), "fixed": {g: _text(v) for g, v in sorted(w.fixed.items())}},
        "levels": {name: {"coefficient": _text(lv.coefficient), "high_k": _text(lv.high_k)}
                   for name, lv in sorted(policy.levels.items())},
        "hospitals": {code: {**({} if h.coefficient is None else {"coefficient": _text(h.coefficient)}),
                             "assessment": _text(h.assessment), "deductions": _text(h.deductions)}
                      for code, h in sorted(policy.hospitals.items())},
        "high_bands": [{**({} if b.up_to is None else {"up_to": _text(b.up_to)}), "k": _text(b.k)}
                       for b in policy.high_bands],
        "low_ratio": _text(policy.low_ratio),
        "readmission_days": policy.readmission_days,
        "special_cases": {"approved": list(policy.approved_special_cases),
                          "cap_share": _text(policy.special_cap_share)},
        "adjustment_share": _text(policy.adjustment_share),
        "provisional_point_value": _text(policy.provisional_point_value),
        "advance_share": _text(policy.advance_share),
        "rates": {"fixed": {k: _text(v) for k, v in policy.fixed_rates.items()}, "adjust": _text(policy.rate_adjust)},
    }
    if policy.budget is not None:
        out["budget"] = _text(policy.budget)
    return out
