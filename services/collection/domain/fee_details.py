"""Fee details (2301): reading an upload and checking it. Problems are findings, never exceptions.

ERROR findings refuse the upload as a whole (a line that cannot be read, a line of another stay, a serial number
twice); WARNING findings are data-quality findings stored with the stay: an amount that is not cnt x pric, a
malformed or retired item code, details that do not sum to the list's fee categories or the record's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from libs.common.money import fen_text
from libs.national.fees import FEE_CATEGORIES, FeeLine, amount_matches, product_fen, read_feedetail, scaled_text

from .model import Finding, Verdicts, error, warning

MAX_LINES = 10_000
REVOKE_ALL = "0000"
"""A 2302 with this feedetl_sn (or none) revokes every current line of the stay."""


class DetailRow(NamedTuple):
    """A line as stored: the values the rules read, and the rest of what the hospital sent."""

    line: FeeLine
    psn_no: str
    med_type: str
    medins_list_codg: str
    dept: str
    doctor: str


@dataclass(frozen=True)
class FeeUpload:
    """A readable 2301 upload: one stay's lines, in the order sent."""

    fixmedins_code: str
    mdtrt_id: str
    rows: tuple[DetailRow, ...]

    @property
    def lines(self) -> tuple[FeeLine, ...]:
        return tuple(r.line for r in self.rows)


def read_upload(fixmedins_code: str, body: Any) -> tuple[FeeUpload | None, list[Finding]]:
    """The upload, or the ERROR findings that refuse it (every one, each naming its line and field)."""
    entries = body.get("feedetail") if isinstance(body, Mapping) else None
    if not isinstance(entries, list) or not entries:
        return None, [error("FD-REQ-001", "feedetail", "缺少费用明细 feedetail（须为非空数组）",
                            "input.feedetail must be a non-empty array")]
    if len(entries) > MAX_LINES:
        return None, [error("FD-REQ-002", "feedetail", f"一次最多上传 {MAX_LINES} 条明细",
                            f"at most {MAX_LINES:,} lines per upload, got {len(entries):,}")]
    found: list[Finding] = []
    rows: list[DetailRow] = []
    stays: dict[str, int] = {}
    serials: dict[str, int] = {}
    for i, entry in enumerate(entries):
        line = read_feedetail(entry, i)
        if isinstance(line, str):
            found.append(error("FD-REQ-003", f"feedetail[{i}]", f"明细无法读取：{line}", line))
            continue
        if not line.sn:
            found.append(error("FD-SN-001", f"feedetail[{i}].feedetl_sn", "缺少明细流水号 feedetl_sn",
                               "feedetl_sn is required"))
        elif line.sn in serials:
            found.append(error("FD-SN-002", f"feedetail[{i}].feedetl_sn",
                               f"明细流水号 {line.sn} 重复（同 feedetail[{serials[line.sn]}]）",
                               f"feedetl_sn {line.sn} is sent twice (also feedetail[{serials[line.sn]}])"))
        else:
            serials[line.sn] = i
        if line.category not in FEE_CATEGORIES:
            found.append(error("FD-CAT-001", f"feedetail[{i}].med_chrgitm_type",
                               f"收费项目类别 {line.category!r} 不是 01-14",
                               f"med_chrgitm_type {line.category!r} is not one of the 14 fee categories 01-14"))
        if not line.mdtrt_id:
            found.append(error("FD-STAY-001", f"feedetail[{i}].mdtrt_id", "缺少就诊ID mdtrt_id",
                               "mdtrt_id is required"))
        stays.setdefault(line.mdtrt_id, i)
        rows.append(DetailRow(line, *(_text(entry.get(k)) for k in ("psn_no", "med_type", "medins_list_codg",
                                                                     "bilg_dept_codg", "bilg_dr_codg"))))
    named = [m for m in stays if m]
    if len(named) > 1:
        found.append(error("FD-STAY-002", "feedetail", f"一次上传只能包含一次就诊的明细，实有 {len(named)} 个 mdtrt_id",
                           f"one upload holds the lines of one stay; got {len(named)} mdtrt_id values "
                           f"({', '.join(named[:3])})"))
    if found:
        return None, found
    return FeeUpload(fixmedins_code, named[0], tuple(rows)), []


def already_uploaded(upload: FeeUpload, current: Iterable[str]) -> list[Finding]:
    """ERROR findings for lines whose serial number is current for the stay (2302 revokes a line first)."""
    present = set(current)
    return [error("FD-SN-003", f"feedetail[{i}].feedetl_sn", f"明细流水号 {row.line.sn} 已上传，须先以 2302 撤销",
                  f"feedetl_sn {row.line.sn} was uploaded before and is not revoked: revoke it with 2302 first")
            for i, row in enumerate(upload.rows) if row.line.sn in present]


def item_systems(lines: Iterable[FeeLine]) -> set[tuple[str, str]]:
    """The (code system, code) pairs to validate: the system is inferred from the code's shape ("")."""
    return {("", line.code) for line in lines}


def line_findings(lines: Iterable[FeeLine], verdicts: Verdicts) -> list[Finding]:
    """Data-quality warnings of a stay's lines: amounts and item codes, each naming its line's feedetl_sn."""
    found = []
    for line in lines:
        where = f"feedetl_sn {line.sn}"
        if not amount_matches(line):
            found.append(warning(
                "FD-AMT-001", where,
                f"明细金额 {fen_text(line.amount)} 不等于数量 {scaled_text(line.cnt)} × 单价 {scaled_text(line.pric)}",
                f"amount {fen_text(line.amount)} is not cnt {scaled_text(line.cnt)} x pric {scaled_text(line.pric)} "
                f"= {fen_text(product_fen(line))}"))
        verdict = verdicts.get(("", line.code))
        if verdict is not None and verdict.status in ("MALFORMED", "RETIRED"):
            found.append(warning("FD-CODE-001", where, f"医保目录编码 {line.code} 无效（{verdict.status}）",
                                 f"med_list_codg {line.code} is {verdict.status.lower()}: {verdict.reason}"))
    return found


def sum_findings(by_category: Mapping[str, int], list_categories: Mapping[str, int] | None,
                 record_total: int | None) -> list[Finding]:
    """The stay's current details against its list: per fee category when the list has iteminfo, else against
    the settlement record's total (a HIS-form list). Nothing to say while the list has not arrived."""
    total = sum(by_category.values())
    if list_categories is not None:
        differing = sorted(c for c in by_category.keys() | list_categories.keys()
                           if by_category.get(c, 0) != list_categories.get(c, 0))
        if not differing:
            return []
        shown = "; ".join(f"{c}: {fen_text(by_category.get(c, 0))} vs {fen_text(list_categories.get(c, 0))}"
                          for c in differing[:5])
        return [warning("FD-SUM-001", "feedetail", f"费用明细与清单费用分类不符（{len(differing)} 类）：{shown}",
                        f"fee details do not sum to the list's fee categories (iteminfo) in {len(differing)} "
                        f"categor{'y' if len(differing) == 1 else 'ies'}: {shown} (details vs list)")]
    if record_total is not None and total != record_total:
        return [warning("FD-SUM-002", "feedetail",
                        f"费用明细合计 {fen_text(total)} 不等于结算记录医疗费总额 {fen_text(record_total)}",
                        f"fee details total {fen_text(total)}, the settlement record's medfee_sumamt is "
                        f"{fen_text(record_total)}")]
    return []


def category_sums(lines: Iterable[FeeLine]) -> dict[str, int]:
    """Fen by fee category (``med_chrgitm_type``) of the lines."""
    by_category: dict[str, int] = {}
    for line in lines:
        by_category[line.category] = by_category.get(line.category, 0) + line.amount
    return by_category


SUM_CHECKS = frozenset({"FD-SUM-001", "FD-SUM-002"})
ListMoney = tuple[Mapping[str, int] | None, int | None]
"""A list as the sum check reads it: its fee categories (None without iteminfo) and the record's total (or None)."""


def with_sum_check(findings: Iterable[Finding], lines: Iterable[FeeLine], money: ListMoney | None) -> list[Finding]:
    """The stay's stored findings with the sum check made again against its list as it is now. Details usually
    arrive during the stay and the list after discharge (and a list may be revised), so the check stored with the
    last upload may be missing or stale."""
    kept = [f for f in findings if f.code not in SUM_CHECKS]
    return kept + (sum_findings(category_sums(lines), *money) if money is not None else [])


def _text(value: Any) -> str:
    return "" if value is None else value.strip() if isinstance(value, str) else str(value)
