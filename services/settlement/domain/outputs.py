"""The four output files of FORMAT.md as bytes: ``weights.csv``, ``cases.csv``, ``hospitals.csv``, ``summary.json``.

CSV: UTF-8, ``\\n`` line ends, a header, rows sorted by the first column in byte order (Python's ``str``
order is code-point order, which is UTF-8 byte order), fields quoted as the ``csv`` module would quote them
only when they hold a comma, a quote or a line break. Fixed places: weights and points 4, money 2, fund
ratio and point value 6. ``cases.csv`` is produced in chunks so that a million rows never sit in memory twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .cases import CaseTable
from .exact import SCALE2, fixed, round_units
from .policy import Method
from .results import NONE, Kind, Settlement
from .weights import WeightTable

WEIGHTS_HEADER = "group,kept_cases,avg_cost,rw,source\n"
CASES_HEADER = "case_id,hospital,group,kind,rw,base_points,points,standard,basis,fund_due,halved\n"
HOSPITALS_HEADER = "hospital,cases,points,cmi,gross,assessed,advances,deductions,balance,surplus\n"
_SPECIAL = re.compile(r'[,"\r\n]')
_CHUNK = 20_000


def csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if _SPECIAL.search(text) else text


def _fields(values: list[str]) -> list[str]:
    """All values as CSV fields; one scan of the joined text decides whether any needs quoting."""
    if not _SPECIAL.search("".join(values)):
        return values
    return [csv_field(v) for v in values]


def _opt(value: int | None, places: int) -> str:
    return "" if value is None or value == NONE else fixed(value, places)


def weights_csv(weights: WeightTable) -> bytes:
    rows = [f"{csv_field(w.group)},{w.kept_cases},{fixed(w.standard, 2)},{fixed(w.rw, 4)},{w.source}\n"
            for w in weights.sorted_groups()]
    return (WEIGHTS_HEADER + "".join(rows)).encode()


def cases_csv(settlement: Settlement, cases: CaseTable) -> Iterator[bytes]:
    """``cases.csv`` in chunks of bytes, rows in ``case_id`` byte order."""
    yield CASES_HEADER.encode()
    r = settlement.results
    ids = _fields(cases.case_ids)
    hospitals, groups = _fields(cases.hospital_codes), _fields(cases.group_codes)
    labels = [k.label for k in Kind]
    points_method = settlement.method is Method.POINTS
    rw_text: dict[int, str] = {NONE: ""}
    kind, rw, bp, pts, std, basis, due, halved = (r.kind, r.rw, r.base_points, r.points, r.standard, r.basis,
                                                 r.fund_due, r.halved)
    order = sorted(range(len(ids)), key=cases.case_ids.__getitem__)
    hospital, group = cases.hospital, cases.group
    for start in range(0, len(order), _CHUNK):
        lines = []
        for i in order[start:start + _CHUNK]:
            w = rw[i]
            w_text = rw_text.get(w)
            if w_text is None:
                w_text = rw_text[w] = fixed(w, 4)
            k = kind[i]
            head = f"{ids[i]},{hospitals[hospital[i]]},{groups[group[i]]},{labels[k]},{w_text},"
            if points_method:
                base = fixed(bp[i], 4) if k <= Kind.LOW else ""
                lines.append(f"{head}{base},{fixed(pts[i], 4)},,,,{halved[i]}\n")
            else:
                standard = fixed(std[i], 2) if k <= Kind.LOW else ""
                lines.append(f"{head},,{standard},{fixed(basis[i], 2)},{fixed(due[i], 2)},0\n")
        yield "".join(lines).encode()


def hospitals_csv(settlement: Settlement) -> bytes:
    rows = [f"{csv_field(h.hospital)},{h.cases},{_opt(h.points, 4)},{fixed(h.cmi, 4)},{fixed(h.gross, 2)},"
            f"{fixed(h.assessed, 2)},{fixed(h.advances, 2)},{fixed(h.deductions, 2)},{fixed(h.balance, 2)},"
            f"{_opt(h.surplus, 2)}\n" for h in settlement.hospitals]
    return (HOSPITALS_HEADER + "".join(rows)).encode()


def summary(settlement: Settlement, case_count: int) -> dict[str, Any]:
    out: dict[str, Any] = {"method": settlement.method.value, "cases": case_count,
                           "avg_all": fixed(round_units(settlement.avg_all, SCALE2), 2)}
    if settlement.method is Method.POINTS:
        assert settlement.total_points is not None and settlement.fund_ratio is not None
        assert settlement.point_value is not None
        out["total_points"] = fixed(settlement.total_points, 4)
        out["fund_ratio"] = fixed(settlement.fund_ratio, 6)
        out["point_value"] = fixed(settlement.point_value, 6)
    else:
        out["rates"] = {level: fixed(rate, 2) for level, rate in sorted((settlement.rates or {}).items())}
    out["sum_balance"] = fixed(settlement.sum_balance, 2)
    return out


def summary_json(settlement: Settlement, case_count: int) -> bytes:
    return json.dumps(summary(settlement, case_count), indent=1, ensure_ascii=False).encode()


def output_files(settlement: Settlement, weights: WeightTable, cases: CaseTable) -> dict[str, Iterator[bytes]]:
    """Each output file's name and its content as chunks, in the order they are written."""
    return {"weights.csv": iter([weights_csv(weights)]), "cases.csv": cases_csv(settlement, cases),
            "hospitals.csv": iter([hospitals_csv(settlement)]),
            "summary.json": iter([summary_json(settlement, len(cases))])}
