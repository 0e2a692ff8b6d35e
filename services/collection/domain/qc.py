"""Quality control of a settlement list (PRIMER section 3): small pure rules, each returning findings.

Code validity comes from the coding service as ``verdicts`` (looked up in one batch before the rules run).
The rule set is versioned: a stored finding names the rule-set version that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from libs.common.icd10 import sex_conflict

from .case_facts import parse_time
from .limits import plausibility
from .model import Finding, ParsedList, Verdicts, error, warning

RULESET_VERSION = "QC-2026.1"
Rule = Callable[[ParsedList, Verdicts], Iterable[Finding]]

FEE_CATEGORIES = frozenset(f"{i:02d}" for i in range(1, 15))


def principal_diagnosis(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    flagged = [i for i, d in enumerate(lst.body["diseinfo"]) if str(d.get("maindiag_flag")) == "1"]
    if len(flagged) != 1:
        yield error("QC-DX-001", "diseinfo", f"主诊断须恰有一个，实有 {len(flagged)} 个",
                    f"exactly one principal diagnosis (maindiag_flag 1) is required, found {len(flagged)}")


def code_validity(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    """Diagnoses and procedures must be valid 医保版 2.0 codes; institution and doctor codes well-formed."""
    for f in lst.coded:
        verdict = verdicts.get((f.system_id, f.code))
        if verdict is None or verdict.status == "VALID":
            continue
        if f.system_id == "icd10-chs":
            yield error("QC-DX-002", f.path, f"'{f.code}' 不是医保版 2.0 疾病诊断代码（{verdict.status}）",
                        f"'{f.code}' is not a code of ICD-10 医保版 2.0 ({verdict.status}: {verdict.reason})")
        elif f.system_id == "icd9cm3-chs":
            yield error("QC-PX-001", f.path, f"'{f.code}' 不是医保版 2.0 手术操作代码（{verdict.status}）",
                        f"'{f.code}' is not a code of ICD-9-CM3 医保版 2.0 ({verdict.status}: {verdict.reason})")
        elif verdict.status == "MALFORMED":
            yield error("QC-ORG-001", f.path, f"'{f.code}' 代码格式错误", f"'{f.code}' is malformed: {verdict.reason}")
        else:
            yield warning("QC-ORG-002", f.path, f"'{f.code}' 未在{f.system_id}代码库中登记",
                          f"'{f.code}' is well-formed but not registered ({f.system_id})")


def sex_specific_diagnoses(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    sex = lst.facts.sex
    for i, d in enumerate(lst.body["diseinfo"]):
        code = str(d.get("diag_code", ""))
        conflict = sex_conflict(code, sex)
        if conflict:
            zh = f"{'男' if sex == 1 else '女'}性患者不应有{'女' if sex == 1 else '男'}性专属诊断 {code}"
            yield error("QC-SEX-001", f"diseinfo[{i}].diag_code", zh, conflict)
    if sex not in (1, 2):
        yield error("QC-SEX-002", "setlinfo.gend", "性别须为 1 或 2", "gend must be 1 (male) or 2 (female)")


def newborn_rules(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    f = lst.facts
    if f.age_years is None:
        yield error("QC-NB-000", "setlinfo.age", "年龄不是整数", "age is not an integer")
        return
    if f.age_years < 1 and f.age_days is None:
        yield error("QC-NB-001", "setlinfo.nwb_age", "年龄不足1周岁须填写天龄 nwb_age",
                    "age under one year needs the age in days (nwb_age)")
    if f.age_years < 1 and f.age_days is not None and f.age_days <= 28 and not f.birth_weight_g:
        yield error("QC-NB-002", "setlinfo.nwb_bir_wt", "28天及以内新生儿须填写出生体重 nwb_bir_wt",
                    "a newborn of 28 days or less needs the birth weight (nwb_bir_wt)")


def dates(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    s = lst.body["setlinfo"]
    admitted, discharged = _time(s.get("adm_time")), _time(s.get("dscg_time"))
    if admitted is None or discharged is None:
        field = "setlinfo.adm_time" if admitted is None else "setlinfo.dscg_time"
        yield error("QC-DT-001", field, "时间格式须为 yyyy-MM-dd HH:mm:ss", "times must be 'yyyy-MM-dd HH:mm:ss'")
        return
    if discharged < admitted:
        yield error("QC-DT-002", "setlinfo.dscg_time", "出院时间早于入院时间", "setlinfo.dscg_time is before adm_time")
        return
    los = max((discharged.date() - admitted.date()).days, 1)
    stated = s.get("act_ipt_days")
    if stated not in (None, "") and str(stated).strip() != str(los):
        yield warning("QC-DT-003", "setlinfo.act_ipt_days", f"实际住院天数应为 {los}",
                      f"act_ipt_days should be {los} (discharge date minus admission date, a same-day stay is 1)")
    if lst.discharge_date is None:
        yield error("QC-DT-004", "setlinfo.setl_end_date", "结算结束日期格式错误", "setl_end_date is not a date")


def transfers(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    s = lst.body["setlinfo"]
    if str(s.get("dscg_way")) in ("2", "3") and not (s.get("acp_optins_code") or s.get("acp_medins_name")):
        yield error("QC-TR-001", "setlinfo.acp_optins_code", "转院/转社区离院须填写拟接收机构",
                    "a transfer discharge (dscg_way 2 or 3) needs the receiving institution")


def fees(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    for i, (item, (amount, parts)) in enumerate(zip(lst.body["iteminfo"], lst.item_fen, strict=True)):
        if str(item.get("med_chrgitm")) not in FEE_CATEGORIES:
            yield error("QC-FEE-003", f"iteminfo[{i}].med_chrgitm", f"未知的收费项目类别 {item.get('med_chrgitm')!r}",
                        f"unknown fee category {item.get('med_chrgitm')!r} (01-14)")
        if parts is not None and parts != amount:
            yield error("QC-FEE-002", f"iteminfo[{i}].amt", "金额不等于甲类、乙类、自费与其他之和",
                        "amt differs from the sum of its class A, class B, self-paid and other parts")
    stated = lst.stated_total_fen
    if stated is not None and abs(stated - lst.total_fen) > 1:
        yield error("QC-FEE-001", "setlinfo.medfee_sumamt",
                    f"医疗费总额 {stated / 100:.2f} 不等于各收费项目之和 {lst.total_fen / 100:.2f}",
                    f"medfee_sumamt {stated / 100:.2f} differs from the sum of the fee categories "
                    f"{lst.total_fen / 100:.2f}")
    if lst.personal_stated:
        paid = lst.fund_fen + lst.account_fen + lst.cash_fen
        if abs(paid - lst.total_fen) > 1:
            yield error("QC-FEE-005", "payinfo", f"支付合计 {paid / 100:.2f} 不等于费用合计 {lst.total_fen / 100:.2f}",
                        f"fund + personal account + cash ({paid / 100:.2f}) differ from the fee total "
                        f"{lst.total_fen / 100:.2f}")


def age_consistency(lst: ParsedList, verdicts: Verdicts) -> Iterable[Finding]:
    s = lst.body["setlinfo"]
    admitted, born = _time(s.get("adm_time")), _day(s.get("brdy"))
    if admitted is None or born is None or lst.facts.age_years is None:
        return
    on = admitted.date()
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years != lst.facts.age_years:
        yield warning("QC-AGE-001", "setlinfo.age", f"年龄与出生日期不符（应为 {years}）",
                      f"age {lst.facts.age_years} does not match brdy and adm_time ({years})")


RULES: tuple[Rule, ...] = (principal_diagnosis, code_validity, sex_specific_diagnoses, newborn_rules, dates,
                           transfers, fees, age_consistency, plausibility)


def run_qc(lst: ParsedList, verdicts: Verdicts) -> list[Finding]:
    return [finding for rule in RULES for finding in rule(lst, verdicts)]


def _time(value: Any) -> datetime | None:
    return parse_time(value)


def _day(value: Any) -> Any:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None



