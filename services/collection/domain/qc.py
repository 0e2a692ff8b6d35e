"""Quality control of a settlement list (PRIMER section 3): small pure rules, each returning findings.

Two phases. The list's own rules (codes, diagnoses, dates, transfers, its fee nodes) run when it arrives; the
case's rules (the person: sex-specific diagnoses, newborns, age; the money) run once it is a case: joined with
its settlement record, or a rich list complete in itself. A list without either waits (PENDING) after its own
rules pass. Code validity comes from the coding service as ``verdicts`` (looked up in one batch before the
rules run). The rule set is versioned: a stored finding names the rule-set version that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import starmap
from operator import eq, itemgetter
from typing import Any

from libs.common.icd10 import sex_conflict, sex_specific
from libs.common.remembered import Remembered

from .case_facts import completed_years, parse_time
from .limits import plausibility
from .model import Finding, ItemFen, MoneySource, ParsedList, Verdicts, error, warning

RULESET_VERSION = "QC-2026.1"
Rule = Callable[[ParsedList, Verdicts], Iterable[Finding]]

FEE_CATEGORIES = frozenset(f"{i:02d}" for i in range(1, 15))


def principal_diagnosis(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    flagged = [str(d.get("maindiag_flag")) for d in lst.body["diseinfo"]].count("1")
    if flagged != 1:
        return [error("QC-DX-001", "diseinfo", f"主诊断须恰有一个，实有 {flagged} 个",
                      f"exactly one principal diagnosis (maindiag_flag 1) is required, found {flagged}")]
    return ()


def code_validity(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """Diagnoses and procedures must be valid 医保版 2.0 codes; institution and doctor codes well-formed."""
    found = []
    for f in lst.coded:
        verdict = verdicts.get((f.system_id, f.code))
        if verdict is None or verdict.status == "VALID":
            continue
        if f.system_id == "icd10-chs":
            found.append(error("QC-DX-002", f.path, f"'{f.code}' 不是医保版 2.0 疾病诊断代码（{verdict.status}）",
                               f"'{f.code}' is not a code of ICD-10 医保版 2.0 ({verdict.status}: {verdict.reason})"))
        elif f.system_id == "icd9cm3-chs":
            found.append(error("QC-PX-001", f.path, f"'{f.code}' 不是医保版 2.0 手术操作代码（{verdict.status}）",
                               f"'{f.code}' is not a code of ICD-9-CM3 医保版 2.0 ({verdict.status}: "
                               f"{verdict.reason})"))
        elif verdict.status == "MALFORMED":
            found.append(error("QC-ORG-001", f.path, f"'{f.code}' 代码格式错误",
                               f"'{f.code}' is malformed: {verdict.reason}"))
        else:
            found.append(warning("QC-ORG-002", f.path, f"'{f.code}' 未在{f.system_id}代码库中登记",
                                 f"'{f.code}' is well-formed but not registered ({f.system_id})"))
    return found


def list_patient_fields(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """Patient fields a list carries must be readable, whether or not its record will bring them too."""
    s, own = lst.body["setlinfo"], lst.list_person
    found = []
    if own.sex is None and s.get("gend") not in (None, ""):
        found.append(error("QC-SEX-002", "setlinfo.gend", "性别须为 1 或 2", "gend must be 1 (male) or 2 (female)"))
    if own.stated_age is None and s.get("age") not in (None, ""):
        found.append(error("QC-NB-000", "setlinfo.age", "年龄不是整数", "age is not an integer"))
    if own.birth_date is None and s.get("brdy") not in (None, ""):
        found.append(error("QC-DT-005", "setlinfo.brdy", "出生日期格式须为 yyyy-MM-dd",
                           "brdy must be a date yyyy-MM-dd"))
    return found


def case_person(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """The case's person must be known: the insurance type (sex and age have rules of their own)."""
    if not lst.person.insutype:
        return [error("QC-REQ-001", "setlinfo.insutype", "缺少险种类型 insutype（结算记录或清单）",
                      "insutype is missing (from the settlement record, or the list's insutype/hi_type)")]
    return ()


def sex_specific_diagnoses(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    sex = lst.facts.sex
    found = []
    if sex in (1, 2):  # of another sex, no diagnosis conflicts (``sex_conflict``)
        for i, d in enumerate(lst.body["diseinfo"]):
            code = str(d.get("diag_code", ""))
            only = _sex_of[code]
            if only is not None and only != sex:  # the one case ``sex_conflict`` names, asked only then
                zh = f"{'男' if sex == 1 else '女'}性患者不应有{'女' if sex == 1 else '男'}性专属诊断 {code}"
                found.append(error("QC-SEX-001", f"diseinfo[{i}].diag_code", zh, sex_conflict(code, sex)))
    else:
        found.append(error("QC-SEX-002", "setlinfo.gend", "性别须为 1 或 2", "gend must be 1 (male) or 2 (female)"))
    return found


_sex_of: Remembered[str, int | None] = Remembered(sex_specific, most=50_000)
"""``sex_specific`` by diagnosis code: a prefecture's lists repeat a few thousand diagnoses."""


def newborn_rules(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    f = lst.facts
    if f.age_years is None:
        return [error("QC-NB-000", "setlinfo.age", "年龄不是整数", "age is not an integer")]
    if f.age_years >= 1:
        return ()
    found = []
    if f.age_days is None:
        found.append(error("QC-NB-001", "setlinfo.nwb_age", "年龄不足1周岁须填写天龄 nwb_age（或出生日期）",
                           "age under one year needs the age in days (nwb_age, or the birth date)"))
    elif f.age_days <= 28 and not f.birth_weight_g:
        found.append(error("QC-NB-002", "setlinfo.nwb_bir_wt", "28天及以内新生儿须填写出生体重 nwb_bir_wt",
                           "a newborn of 28 days or less needs the birth weight (nwb_bir_wt)"))
    return found


def dates(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    s = lst.body["setlinfo"]
    admitted, discharged = parse_time(s.get("adm_time")), parse_time(s.get("dscg_time"))
    if admitted is None or discharged is None:
        field = "setlinfo.adm_time" if admitted is None else "setlinfo.dscg_time"
        return [error("QC-DT-001", field, "时间格式须为 yyyy-MM-dd HH:mm:ss", "times must be 'yyyy-MM-dd HH:mm:ss'")]
    if discharged < admitted:
        return [error("QC-DT-002", "setlinfo.dscg_time", "出院时间早于入院时间",
                      "setlinfo.dscg_time is before adm_time")]
    found = []
    stated = s.get("act_ipt_days")
    if stated not in (None, ""):
        los = max((discharged.date() - admitted.date()).days, 1)
        if str(stated).strip() != str(los):
            found.append(warning("QC-DT-003", "setlinfo.act_ipt_days", f"实际住院天数应为 {los}",
                                 f"act_ipt_days should be {los} (discharge date minus admission date, a same-day "
                                 f"stay is 1)"))
    if lst.discharge_date is None:
        found.append(error("QC-DT-004", "setlinfo.setl_end_date", "结算结束日期格式错误",
                           "setl_end_date is not a date"))
    return found


def transfers(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    s = lst.body["setlinfo"]
    if str(s.get("dscg_way")) in ("2", "3") and not (s.get("acp_optins_code") or s.get("acp_medins_name")):
        return [error("QC-TR-001", "setlinfo.acp_optins_code", "转院/转社区离院须填写拟接收机构",
                      "a transfer discharge (dscg_way 2 or 3) needs the receiving institution")]
    return ()


def list_fees(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """A list's own cost nodes, where it has them: known categories, parts that add up, a stated total that
    is the sum of the categories."""
    m = lst.list_money
    entries = lst.body.get("iteminfo") or []
    found = [] if _items_in_order(entries, m.item_fen) else _item_findings(entries, m.item_fen)
    stated, items = m.stated_total_fen, m.item_total_fen
    if stated is not None and items is not None and abs(stated - items) > 1:
        found.append(error("QC-FEE-001", "setlinfo.medfee_sumamt",
                           f"医疗费总额 {stated / 100:.2f} 不等于各收费项目之和 {items / 100:.2f}",
                           f"medfee_sumamt {stated / 100:.2f} differs from the sum of the fee categories "
                           f"{items / 100:.2f}"))
    return found


_CATEGORY = itemgetter("med_chrgitm")


def _items_in_order(entries: Sequence[Any], item_fen: ItemFen) -> bool:
    """True when ``_item_findings`` has nothing to say, checked in C: as many amounts as entries, every entry
    of a known category, every amount its parts' sum (None never equal to a number). False means "ask
    ``_item_findings``", which decides."""
    if len(entries) != len(item_fen):
        return False
    try:
        if not FEE_CATEGORIES.issuperset(map(_CATEGORY, entries)):
            return False
    except (KeyError, TypeError):
        return False
    return all(starmap(eq, item_fen))  # pair by pair in C: no tuples of the amounts and of the sums built


def _item_findings(entries: Sequence[Any], item_fen: ItemFen) -> list[Finding]:
    """Per fee entry: an unknown category (QC-FEE-003), an amount other than its parts' sum (QC-FEE-002)."""
    found = []
    for i, (item, (amount, parts)) in enumerate(zip(entries, item_fen, strict=True)):
        if str(item.get("med_chrgitm")) not in FEE_CATEGORIES:
            found.append(error("QC-FEE-003", f"iteminfo[{i}].med_chrgitm",
                               f"未知的收费项目类别 {item.get('med_chrgitm')!r}",
                               f"unknown fee category {item.get('med_chrgitm')!r} (01-14)"))
        if parts is not None and parts != amount:
            found.append(error("QC-FEE-002", f"iteminfo[{i}].amt", "金额不等于甲类、乙类、自费与其他之和",
                               "amt differs from the sum of its class A, class B, self-paid and other parts"))
    return found


def case_fees(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """A rich list's own money must balance: fund plus personal account plus cash is the fee total. (A
    settlement record's money is the core system's; its cross-checks are the join's.)"""
    money, m = lst.money, lst.list_money
    if money is None or money.source is not MoneySource.LIST or m.account_fen is None or m.cash_fen is None:
        return ()
    paid = money.fund_fen + m.account_fen + m.cash_fen
    if abs(paid - money.total_fen) > 1:
        return [error("QC-FEE-005", "payinfo", f"支付合计 {paid / 100:.2f} 不等于费用合计 {money.total_fen / 100:.2f}",
                      f"fund + personal account + cash ({paid / 100:.2f}) differ from the fee total "
                      f"{money.total_fen / 100:.2f}")]
    return ()


def age_consistency(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """A list that states both an age and a birth date: they must agree at admission."""
    own = lst.list_person
    if lst.admission is None or own.birth_date is None or own.stated_age is None:
        return ()
    years = completed_years(own.birth_date, lst.admission.date())
    if years != own.stated_age:
        return [warning("QC-AGE-001", "setlinfo.age", f"年龄与出生日期不符（应为 {years}）",
                        f"age {own.stated_age} does not match brdy and adm_time ({years})")]
    return ()


LIST_RULES: tuple[Rule, ...] = (principal_diagnosis, code_validity, dates, transfers, list_fees, list_patient_fields,
                                plausibility)
"""Rules on what the list says itself: they run when it arrives."""
CASE_RULES: tuple[Rule, ...] = (case_person, sex_specific_diagnoses, newborn_rules, case_fees, age_consistency)
"""Rules on the case (person and money): they run once the list is a case."""


ALL_RULES = LIST_RULES + CASE_RULES


def run_qc(lst: ParsedList, verdicts: Verdicts) -> list[Finding]:
    """The list's rules, and the case's when it is one (joined with its record, or complete in itself)."""
    found: list[Finding] = []
    for rule in ALL_RULES if lst.is_case else LIST_RULES:
        found += rule(lst, verdicts)
    return found
