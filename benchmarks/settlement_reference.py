"""A straightforward ``decimal`` implementation of ``../shared/settlement/FORMAT.md``: the comparison baseline.

It is written to be read against FORMAT.md line by line, not to be fast: ``json`` and ``Decimal`` for every
value, one dict per case, formulas spelled as FORMAT writes them. The benchmark measures the real
implementation (``services/settlement``) against it in the same run, and the tests cross-check the two on
generated scenarios. It shares no code with the real implementation on purpose.

    simulate(cases_path, history_path, params_path) -> {"weights.csv": bytes, ...}   (raises ReferenceError)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LEVELS = ("1", "2", "3")
KNOWN = {
    "": {"method", "scale", "weights", "levels", "hospitals", "high_bands", "low_ratio", "readmission_days",
         "special_cases", "budget", "adjustment_share", "provisional_point_value", "advance_share", "rates"},
    "weights": {"years", "year_weights", "trim_percentiles", "min_cases", "exclude", "fixed"},
    "level": {"coefficient", "high_k"},
    "hospital": {"coefficient", "assessment", "deductions"},
    "band": {"up_to", "k"},
    "special_cases": {"approved", "cap_share"},
    "rates": {"fixed", "adjust"},
}


class ReferenceError(Exception):
    """The run fails: the message names the file, line and field, or the parameter."""


def round_k(x: Decimal, k: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-k), rounding=ROUND_HALF_UP)


def nearest_rank(sorted_values: list[Decimal], p: Decimal) -> Decimal:
    n = len(sorted_values)
    return sorted_values[max(1, math.ceil(p / 100 * n)) - 1]


# -- parameters ---------------------------------------------------------------------------------------------

def _fail(name: str, what: str) -> ReferenceError:
    return ReferenceError(f"params: {name}: {what}")


def _obj(value: Any, name: str, known: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(name, "must be an object")
    for key in value:
        if key not in KNOWN[known]:
            raise _fail(f"{name}.{key}" if name else key, "unknown key")
    return value


def _dec(value: Any, name: str, default: str, money: bool = False) -> Decimal:
    if value is None:
        return Decimal(default)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise _fail(name, "must be a decimal string")
    text = str(value)
    if not (MONEY if money else DECIMAL_TEXT).fullmatch(text):
        raise _fail(name, f"{text!r} is not a {'money' if money else 'non-negative decimal'} string")
    return Decimal(text)


def _share(value: Any, name: str, default: str) -> Decimal:
    share = _dec(value, name, default)
    if share > 1:
        raise _fail(name, "must be between 0 and 1")
    return share


def _int(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(name, "must be a non-negative integer")
    return value


def load_params(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as bad:
        raise ReferenceError(f"{path}: not JSON: {bad}") from bad
    raw = _obj(raw, "", "")
    if raw.get("method") not in ("points", "rate"):
        raise _fail("method", "required: \"points\" or \"rate\"")
    p: dict[str, Any] = {"method": raw["method"], "scale": _dec(raw.get("scale"), "scale", "100")}
    if p["scale"] == 0:
        raise _fail("scale", "must be positive")
    _load_weights(p, _obj(raw.get("weights"), "weights", "weights"))
    _load_levels(p, raw.get("levels", {}), raw.get("hospitals", {}))
    _load_points(p, raw)
    rates = _obj(raw.get("rates", {}), "rates", "rates")
    rf = rates.get("fixed", {})
    if not isinstance(rf, dict):
        raise _fail("rates.fixed", "must be an object")
    for name in rf:
        if name not in LEVELS:
            raise _fail(f"rates.fixed.{name}", "unknown level")
    p["rates_fixed"] = {name: _dec(v, f"rates.fixed.{name}", "0", money=True) for name, v in rf.items()}
    p["rates_adjust"] = _dec(rates.get("adjust"), "rates.adjust", "1")
    return p


def _load_weights(p: dict[str, Any], w: dict[str, Any]) -> None:
    years = w.get("years")
    if not isinstance(years, list) or not years or any(isinstance(y, bool) or not isinstance(y, int)
                                                      for y in years) or len(set(years)) != len(years):
        raise _fail("weights.years", "required: a list of distinct years")
    yw = w.get("year_weights", [1] * len(years))
    if not isinstance(yw, list) or len(yw) != len(years):
        raise _fail("weights.year_weights", "one weight per year")
    p["year_weight"] = {y: _dec(v, "weights.year_weights", "1") for y, v in zip(years, yw, strict=True)}
    trim = w.get("trim_percentiles", [0, 100])
    if not isinstance(trim, list) or len(trim) != 2:
        raise _fail("weights.trim_percentiles", "two percentiles")
    p["trim"] = [_dec(t, "weights.trim_percentiles", "0") for t in trim]
    if not p["trim"][0] <= p["trim"][1] <= 100:
        raise _fail("weights.trim_percentiles", "0 <= low <= high <= 100")
    p["min_cases"] = _int(w.get("min_cases"), "weights.min_cases", 1)
    exclude = w.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(g, str) for g in exclude):
        raise _fail("weights.exclude", "a list of groups")
    p["exclude"] = set(exclude)
    fixed = w.get("fixed", {})
    if not isinstance(fixed, dict):
        raise _fail("weights.fixed", "must be an object")
    p["fixed"] = {}
    for g, v in fixed.items():
        rw = _dec(v, f"weights.fixed.{g}", "0")
        if rw != round_k(rw, 4):
            raise _fail(f"weights.fixed.{g}", "at most 4 decimals")
        p["fixed"][g] = rw


def _load_levels(p: dict[str, Any], levels: Any, hospitals: Any) -> None:
    if not isinstance(levels, dict):
        raise _fail("levels", "must be an object")
    p["levels"] = {}
    for name, entry in levels.items():
        if name not in LEVELS:
            raise _fail(f"levels.{name}", "unknown level")
        e = _obj(entry, f"levels.{name}", "level")
        p["levels"][name] = {"coefficient": _dec(e.get("coefficient"), f"levels.{name}.coefficient", "1"),
                             "high_k": _dec(e.get("high_k"), f"levels.{name}.high_k", "3")}
    if not isinstance(hospitals, dict):
        raise _fail("hospitals", "must be an object")
    p["hospitals"] = {}
    for code, entry in hospitals.items():
        e = _obj(entry, f"hospitals.{code}", "hospital")
        p["hospitals"][code] = {
            "coefficient": None if e.get("coefficient") is None
            else _dec(e["coefficient"], f"hospitals.{code}.coefficient", "1"),
            "assessment": _dec(e.get("assessment"), f"hospitals.{code}.assessment", "1"),
            "deductions": _dec(e.get("deductions"), f"hospitals.{code}.deductions", "0", money=True)}


def _load_points(p: dict[str, Any], raw: dict[str, Any]) -> None:
    bands = raw.get("high_bands", [{"k": "3"}])
    if not isinstance(bands, list) or not bands:
        raise _fail("high_bands", "a non-empty list of bands")
    p["bands"] = []
    for i, band in enumerate(bands):
        b = _obj(band, f"high_bands[{i}]", "band")
        if "k" not in b:
            raise _fail(f"high_bands[{i}].k", "required")
        up_to = None if b.get("up_to") is None else _dec(b["up_to"], f"high_bands[{i}].up_to", "0")
        p["bands"].append((up_to, _dec(b["k"], f"high_bands[{i}].k", "0")))
    p["low_ratio"] = _dec(raw.get("low_ratio"), "low_ratio", "0.4")
    p["readmission_days"] = _int(raw.get("readmission_days"), "readmission_days", 0)
    sc = _obj(raw.get("special_cases", {}), "special_cases", "special_cases")
    approved = sc.get("approved", [])
    if not isinstance(approved, list) or not all(isinstance(a, str) for a in approved):
        raise _fail("special_cases.approved", "a list of case ids")
    p["approved"] = set(approved)
    p["cap_share"] = _share(sc.get("cap_share"), "special_cases.cap_share", "0.05")
    if p["method"] == "points" and raw.get("budget") is None:
        raise _fail("budget", "required for the point method")
    p["budget"] = _dec(raw.get("budget"), "budget", "0", money=True)
    p["adjustment_share"] = _share(raw.get("adjustment_share"), "adjustment_share", "0")
    p["ppv"] = _dec(raw.get("provisional_point_value"), "provisional_point_value", "0")
    p["advance_share"] = _share(raw.get("advance_share"), "advance_share", "0")


# -- inputs -------------------------------------------------------------------------------------------------

def _field(path: Path, number: int, row: dict[str, Any], name: str) -> Any:
    if name not in row or row[name] is None:
        raise ReferenceError(f"{path}:{number}: {name}: missing")
    return row[name]


def _text(path: Path, number: int, row: dict[str, Any], name: str) -> str:
    value = _field(path, number, row, name)
    if not isinstance(value, str):
        raise ReferenceError(f"{path}:{number}: {name}: must be a string")
    return value


def _money(path: Path, number: int, row: dict[str, Any], name: str) -> Decimal:
    value = _field(path, number, row, name)
    if not isinstance(value, str) or not MONEY.fullmatch(value):
        raise ReferenceError(f"{path}:{number}: {name}: {value!r} is not a money string")
    return Decimal(value)


def _date(path: Path, number: int, row: dict[str, Any], name: str) -> dt.date:
    value = _field(path, number, row, name)
    try:
        if not isinstance(value, str) or not DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReferenceError(f"{path}:{number}: {name}: {value!r} is not a date YYYY-MM-DD") from None


def _level(path: Path, number: int, row: dict[str, Any], levels: dict[str, Any] | None) -> str:
    value = _field(path, number, row, "level")
    name = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(name, str) or name not in LEVELS:
        raise ReferenceError(f"{path}:{number}: level: {value!r} is not 1, 2 or 3")
    if levels is not None and name not in levels:
        raise ReferenceError(f"{path}:{number}: level: level {name} has no entry in the parameter levels")
    return name


def _rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as bad:
                raise ReferenceError(f"{path}:{number}: not a JSON object: {bad}") from bad
            if not isinstance(row, dict):
                raise ReferenceError(f"{path}:{number}: not a JSON object")
            rows.append((number, row))
    return rows


def load_history(path: Path) -> list[dict[str, Any]]:
    out = []
    for number, row in _rows(path):
        out.append({"group": _text(path, number, row, "group"), "level": _level(path, number, row, None),
                    "dscg_date": _date(path, number, row, "dscg_date"),
                    "total_cost": _money(path, number, row, "total_cost")})
    return out


def load_cases(path: Path, levels: dict[str, Any]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for number, row in _rows(path):
        case = {"case_id": _text(path, number, row, "case_id"), "hospital": _text(path, number, row, "hospital"),
                "level": _level(path, number, row, levels), "psn_no": _text(path, number, row, "psn_no"),
                "adm_date": _date(path, number, row, "adm_date"), "dscg_date": _date(path, number, row, "dscg_date"),
                "group": _text(path, number, row, "group")}
        for name in ("total_cost", "fund_paid", "personal_paid"):
            case[name] = _money(path, number, row, name)
        if case["dscg_date"] < case["adm_date"]:
            raise ReferenceError(f"{path}:{number}: dscg_date: before adm_date")
        if case["case_id"] in seen:
            raise ReferenceError(f"{path}:{number}: case_id: duplicate {case['case_id']!r}")
        seen.add(case["case_id"])
        out.append(case)
    return out


# -- step 1: weights ----------------------------------------------------------------------------------------

def weighted_mean(totals: dict[int, tuple[Decimal, int]], year_weight: dict[int, Decimal],
                  what: str) -> tuple[Decimal, Decimal]:
    """FORMAT's year-weighted mean of yearly means (``totals``: year -> (sum, count)) as an exact numerator and
    denominator: dividing once, where FORMAT rounds, keeps a tie at the rounding place a tie (a mean of thirds
    divided early would land a hair below it)."""
    total_w = sum(year_weight[y] for y in totals)
    if total_w == 0:
        raise _fail("weights.year_weights", f"the years with data of {what} all weigh 0")
    common = math.lcm(*(n for _, n in totals.values()))
    return sum(year_weight[y] * s * (common // n) for y, (s, n) in totals.items()), total_w * common


def compute_weights(p: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    costs: dict[tuple[str, int], list[Decimal]] = defaultdict(list)
    for h in history:
        g, y = h["group"], h["dscg_date"].year
        if g != "0000" and not g.endswith("QY") and g not in p["exclude"] and y in p["year_weight"]:
            costs[(g, y)].append(h["total_cost"])
    kept: dict[tuple[str, int], list[Decimal]] = {}
    bounds: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
    for key, values in costs.items():
        values.sort()
        lo, hi = nearest_rank(values, p["trim"][0]), nearest_rank(values, p["trim"][1])
        bounds[key] = (lo, hi)
        kept[key] = [c for c in values if lo <= c <= hi]
    k_g: dict[str, int] = defaultdict(int)
    for (g, _y), values in kept.items():
        k_g[g] += len(values)
    from_data = {g for g, k in k_g.items() if k >= p["min_cases"]}
    avg_g = {}
    for g in from_data:
        totals = {y: (sum(v), len(v)) for (gg, y), v in kept.items() if gg == g and v}
        avg_g[g] = weighted_mean(totals, p["year_weight"], f"group {g}")
    all_sum: dict[int, Decimal] = defaultdict(Decimal)
    all_n: dict[int, int] = defaultdict(int)
    for (g, y), values in kept.items():
        if g in from_data:
            all_sum[y] += sum(values)
            all_n[y] += len(values)
    all_num, all_den = Decimal(0), Decimal(1)
    if all_n:
        all_num, all_den = weighted_mean({y: (all_sum[y], all_n[y]) for y in all_n if all_n[y]},
                                         p["year_weight"], "all groups")
    if all_num == 0:
        raise ReferenceError("history: no group is weighted from data with a positive average cost: avg_all "
                             "is undefined")
    avg_all = all_num / all_den
    rw, std, source = {}, {}, {}
    for g in from_data:
        num, den = avg_g[g]
        rw[g], std[g], source[g] = round_k(num * all_den / (den * all_num), 4), round_k(num / den, 2), "data"
    for g, fixed_rw in p["fixed"].items():
        rw[g], source[g] = fixed_rw, "fixed"
        if g not in from_data:
            std[g] = round_k(fixed_rw * all_num / all_den, 2)
    for g in rw:
        if std[g] == 0:
            raise ReferenceError(f"weights: group {g}: standard cost std_g is 0")
    return {"avg_all": avg_all, "rw": rw, "std": std, "source": source, "k": k_g, "bounds": bounds}


# -- steps 2-4 ----------------------------------------------------------------------------------------------

def coefficient(p: dict[str, Any], case: dict[str, Any]) -> Decimal:
    entry = p["hospitals"].get(case["hospital"])
    if entry is not None and entry["coefficient"] is not None:
        return entry["coefficient"]
    return p["levels"][case["level"]]["coefficient"]


def hospital_param(p: dict[str, Any], code: str, name: str, default: str) -> Decimal:
    entry = p["hospitals"].get(code)
    return entry[name] if entry is not None else Decimal(default)


def check_special(p: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    ids = {c["case_id"] for c in cases}
    for a in sorted(p["approved"]):
        if a not in ids:
            raise _fail("special_cases.approved", f"{a!r} is not a case id")
    cap = math.floor(p["cap_share"] * len(cases))
    if len(p["approved"]) > cap:
        raise _fail("special_cases.cap_share", f"{len(p['approved'])} approved special cases exceed the cap "
                    f"of {cap} (cap_share x cases)")


def point_cases(p: dict[str, Any], w: dict[str, Any], cases: list[dict[str, Any]]) -> None:
    scale, avg_all = p["scale"], w["avg_all"]
    for case in cases:
        g, c = case["group"], case["total_cost"]
        case["rw"] = w["rw"].get(g)
        if case["case_id"] in p["approved"] or g not in w["rw"]:
            case["kind"] = "special" if case["case_id"] in p["approved"] else "by_item"
            case["points"] = round_k(c / avg_all * scale, 4)
            continue
        bp, std, coef = w["rw"][g] * scale, w["std"][g], coefficient(p, case)
        k = next((k for up_to, k in p["bands"] if up_to is None or up_to >= bp), None)
        if k is None:
            raise _fail("high_bands", f"no band covers {bp} base points (group {g})")
        case["base_points"] = bp
        if c > k * std:
            case["kind"], case["points"] = "high", round_k(bp * coef + (c / std - k) * bp, 4)
        elif c < p["low_ratio"] * std:
            case["kind"], case["points"] = "low", round_k(bp * c / std, 4)
        else:
            case["kind"], case["points"] = "normal", round_k(bp * coef, 4)
    if p["readmission_days"] > 0:
        stays: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for case in cases:
            stays[(case["psn_no"], case["hospital"])].append(case)
        for seq in stays.values():
            seq.sort(key=lambda c: (c["adm_date"], c["case_id"]))
            for this, following in itertools.pairwise(seq):
                gap = (following["adm_date"] - this["dscg_date"]).days
                if this["kind"] in ("normal", "high", "low") and following["group"] == this["group"] \
                        and 0 <= gap <= p["readmission_days"]:
                    this["points"], this["halved"] = round_k(this["points"] / 2, 4), 1


def rate_for_levels(p: dict[str, Any], w: dict[str, Any], cases: list[dict[str, Any]],
                    history: list[dict[str, Any]]) -> dict[str, Decimal]:
    latest = max(p["year_weight"])
    s_cost: dict[str, Decimal] = defaultdict(Decimal)
    s_rw: dict[str, Decimal] = defaultdict(Decimal)
    for h in history:
        g, y = h["group"], h["dscg_date"].year
        if y != latest or g not in w["rw"] or (g, y) not in w["bounds"]:
            continue
        lo, hi = w["bounds"][(g, y)]
        if not lo <= h["total_cost"] <= hi:
            continue
        s_cost[h["level"]] += h["total_cost"]
        s_rw[h["level"]] += w["rw"][g]
    rates = {}
    for level in sorted({c["level"] for c in cases}):
        if level in p["rates_fixed"]:
            rates[level] = p["rates_fixed"][level]
        elif s_rw.get(level):
            rates[level] = round_k(p["rates_adjust"] * s_cost[level] / s_rw[level], 2)
        else:
            raise ReferenceError(f"rates: level {level} has cases but no kept history of {latest} in a weighted "
                                 "group and no rates.fixed entry")
    return rates


def rate_cases(p: dict[str, Any], w: dict[str, Any], cases: list[dict[str, Any]],
               rates: dict[str, Decimal]) -> None:
    for case in cases:
        g, c = case["group"], case["total_cost"]
        case["rw"] = w["rw"].get(g)
        if case["case_id"] in p["approved"] or g not in w["rw"]:
            case["kind"] = "special" if case["case_id"] in p["approved"] else "by_item"
            case["basis"] = c
        else:
            standard = round_k(w["rw"][g] * rates[case["level"]] * coefficient(p, case), 2)
            case["standard"] = standard
            if c > p["levels"][case["level"]]["high_k"] * standard:
                case["kind"], case["basis"] = "high", c
            elif c < p["low_ratio"] * standard:
                case["kind"], case["basis"] = "low", c
            else:
                case["kind"], case["basis"] = "normal", standard
        case["fund_due"] = max(Decimal(0), case["basis"] - case["personal_paid"])


# -- outputs ------------------------------------------------------------------------------------------------

def fmt(value: Decimal | None, places: int) -> str:
    return "" if value is None else str(round_k(value, places))


def csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows, key=lambda r: r[0].encode()))
    return buffer.getvalue().encode("utf-8")


def hospital_statements(p: dict[str, Any], cases: list[dict[str, Any]], point_value: Decimal | None,
                        fund_ratio: Decimal | None) -> tuple[list[list[str]], Decimal]:
    points = point_value is not None
    by_hospital: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_hospital[case["hospital"]].append(case)
    hospital_rows, sum_balance = [], Decimal(0)
    for code, own in by_hospital.items():
        months: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for case in own:
            months[(case["dscg_date"].year, case["dscg_date"].month)].append(case)
        assessment = hospital_param(p, code, "assessment", "1")
        deductions = hospital_param(p, code, "deductions", "0")
        if points:
            points_h = sum(c["points"] for c in own)
            gross = round_k(points_h * point_value * fund_ratio, 2)
            advances = sum(round_k(sum(c["points"] for c in m) * p["ppv"] * fund_ratio * p["advance_share"], 2)
                           for m in months.values())
            surplus = None
        else:
            points_h = None
            gross = sum(c["fund_due"] for c in own)
            advances = sum(round_k(sum(c["fund_due"] for c in m) * p["advance_share"], 2) for m in months.values())
            surplus = sum(c["basis"] - c["total_cost"] for c in own)
        assessed = round_k(gross * assessment, 2)
        balance = assessed - advances - deductions
        sum_balance += balance
        weighted = [c["rw"] for c in own if c["rw"] is not None]
        cmi = round_k(sum(weighted) / len(weighted), 4) if weighted else Decimal(0)
        hospital_rows.append([code, str(len(own)), fmt(points_h, 4), fmt(cmi, 4), fmt(gross, 2),
                              fmt(assessed, 2), fmt(advances, 2), fmt(deductions, 2), fmt(balance, 2),
                              fmt(surplus, 2)])
    return hospital_rows, sum_balance


def simulate(cases_path: Path, history_path: Path, params_path: Path) -> dict[str, bytes]:
    with localcontext() as ctx:
        ctx.prec = 60
        return _simulate(cases_path, history_path, params_path)


def _simulate(cases_path: Path, history_path: Path, params_path: Path) -> dict[str, bytes]:
    p = load_params(params_path)
    history = load_history(history_path)
    cases = load_cases(cases_path, p["levels"])
    check_special(p, cases)
    w = compute_weights(p, history)
    points = p["method"] == "points"
    summary: dict[str, Any] = {"method": p["method"], "cases": len(cases), "avg_all": fmt(w["avg_all"], 2)}
    for case in cases:
        case["halved"] = 0
    if points:
        point_cases(p, w, cases)
        total_points = sum((c["points"] for c in cases), Decimal(0))
        total_cost = sum((c["total_cost"] for c in cases), Decimal(0))
        if total_cost == 0:
            raise ReferenceError("cases: the total cost of all cases is 0: no fund ratio")
        fund_ratio = round_k(sum(c["fund_paid"] for c in cases) / total_cost, 6)
        if fund_ratio == 0 or total_points == 0:
            raise ReferenceError("cases: the fund ratio or the total points are 0: no point value")
        available = round_k(p["budget"] * (1 - p["adjustment_share"]), 2)
        point_value = round_k(available / fund_ratio / total_points, 6)
        summary |= {"total_points": fmt(total_points, 4), "fund_ratio": fmt(fund_ratio, 6),
                    "point_value": fmt(point_value, 6)}
    else:
        rates = rate_for_levels(p, w, cases, history)
        rate_cases(p, w, cases, rates)
        summary["rates"] = {level: fmt(rate, 2) for level, rate in rates.items()}
    hospital_rows, sum_balance = hospital_statements(p, cases, point_value if points else None,
                                                     fund_ratio if points else None)
    summary["sum_balance"] = fmt(sum_balance, 2)
    weight_rows = [[g, str(w["k"].get(g, 0)), fmt(w["std"][g], 2), fmt(w["rw"][g], 4), w["source"][g]]
                   for g in w["rw"]]
    case_rows = []
    for c in cases:
        shown = c["kind"] in ("normal", "high", "low")
        case_rows.append([c["case_id"], c["hospital"], c["group"], c["kind"], fmt(c["rw"], 4),
                          fmt(c.get("base_points") if points and shown else None, 4),
                          fmt(c["points"] if points else None, 4),
                          fmt(c.get("standard") if not points and shown else None, 2),
                          fmt(c.get("basis"), 2), fmt(c.get("fund_due"), 2), str(c["halved"])])
    return {
        "weights.csv": csv_bytes(["group", "kept_cases", "avg_cost", "rw", "source"], weight_rows),
        "cases.csv": csv_bytes(["case_id", "hospital", "group", "kind", "rw", "base_points", "points", "standard",
                                "basis", "fund_due", "halved"], case_rows),
        "hospitals.csv": csv_bytes(["hospital", "cases", "points", "cmi", "gross", "assessed", "advances",
                                    "deductions", "balance", "surplus"], hospital_rows),
        "summary.json": json.dumps(summary, indent=1, ensure_ascii=False).encode("utf-8"),
    }
