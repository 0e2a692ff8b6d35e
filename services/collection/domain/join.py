"""A list meets its settlement record: the case takes the record's person and money, and whatever the list says
itself about them is cross-checked against the record (disagreements are findings).

The join key is (``fixmedins_code``, ``setl_id``); ``psn_no`` must agree, or the record is not this list's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from libs.common.money import fen_text

from .case_facts import case_facts, with_person
from .model import CaseMoney, Finding, MoneySource, ParsedList, Person, error, warning
from .records import SettlementRecord


def join(parsed: ParsedList, record: SettlementRecord, revision: int) -> tuple[ParsedList, list[Finding]]:
    """The case of ``parsed`` with its settlement record (revision ``revision``), and the cross-check findings."""
    person = Person(name=record.psn_name, sex=record.sex, birth_date=record.birth_date,
                    stated_age=int(record.age) if record.age is not None and record.age >= 0 else None,
                    insutype=record.insutype)
    admitted = parsed.admission.date() if parsed.admission else None
    # Age at admission from the record's birth date where it has one (its stated age is the core system's
    # rounding); a newborn's age in days from the birth date too, unless the list states it.
    facts = with_person(case_facts(parsed.body), sex=person.sex,
                        age_years=None if person.birth_date is not None else person.stated_age,
                        birth_date=person.birth_date, admitted=admitted)
    money = CaseMoney(record.total_fen, record.fund_fen, record.personal_fen, record.account_fen, record.cash_fen,
                      MoneySource.SETTLEMENT_RECORD)
    joined = replace(parsed, person=person, money=money, facts=facts, record_revision=revision)
    return joined, list(cross_checks(parsed, record))


def cross_checks(parsed: ParsedList, record: SettlementRecord) -> Iterator[Finding]:
    if parsed.psn_no != record.psn_no:
        yield error("QC-REC-001", "setlinfo.psn_no", f"人员编号 {parsed.psn_no} 与结算记录的 {record.psn_no} 不一致",
                    f"psn_no {parsed.psn_no} differs from its settlement record's {record.psn_no}")
    if parsed.mdtrt_id != record.mdtrt_id:
        yield warning("QC-REC-002", "setlinfo.mdtrt_id",
                      f"就诊ID {parsed.mdtrt_id} 与结算记录的 {record.mdtrt_id} 不一致",
                      f"mdtrt_id {parsed.mdtrt_id} differs from its settlement record's {record.mdtrt_id}")
    own = parsed.list_person
    differences = (
        ("QC-REC-003", "psn_name", own.name, record.psn_name, "人员姓名"),
        ("QC-REC-004", "gend", own.sex, record.sex, "性别"),
        ("QC-REC-005", "brdy", own.birth_date, record.birth_date, "出生日期"),
        ("QC-REC-006", "insutype", own.insutype, record.insutype, "险种类型"),
    )
    for code, name, mine, theirs, zh in differences:
        if mine not in (None, "") and theirs not in (None, "") and mine != theirs:
            if name == "psn_name":  # a name is kept in the list and record bodies only (README "Personal data")
                yield warning(code, f"setlinfo.{name}", f"{zh}与结算记录的不一致，以结算记录为准",
                              f"{name} differs from the settlement record's; the record's is used")
                continue
            yield warning(code, f"setlinfo.{name}", f"{zh} {mine} 与结算记录的 {theirs} 不一致，以结算记录为准",
                          f"{name} {mine} differs from the settlement record's {theirs}; the record's is used")
    m = parsed.list_money
    total, fund = fen_text(record.total_fen), fen_text(record.fund_fen)
    if m.item_total_fen is not None and m.item_total_fen != record.total_fen:
        items = fen_text(m.item_total_fen)
        yield error("QC-FEE-001", "iteminfo", f"各收费项目之和 {items} 不等于结算记录的医疗费总额 {total}",
                    f"the fee categories sum to {items}, the settlement record's medfee_sumamt is {total}")
    if m.payinfo_fund_fen is not None and m.payinfo_fund_fen != record.fund_fen:
        paid_by_funds = fen_text(m.payinfo_fund_fen)
        yield error("QC-FEE-006", "payinfo", f"基金支付合计 {paid_by_funds} 不等于结算记录的基金支付总额 {fund}",
                    f"payinfo sums to {paid_by_funds}, the settlement record's fund_pay_sumamt is {fund}")
    for code, name, mine_fen, theirs_fen in (("QC-REC-007", "acct_pay", m.account_fen, record.account_fen),
                                             ("QC-REC-008", "psn_cashpay", m.cash_fen, record.cash_fen)):
        if mine_fen is not None and mine_fen != theirs_fen:
            mine, theirs = fen_text(mine_fen), fen_text(theirs_fen)
            yield warning(code, f"setlinfo.{name}", f"{name} {mine} 与结算记录的 {theirs} 不一致",
                          f"{name} {mine} differs from the settlement record's {theirs}")
    shares = fen_text(record.fund_fen + record.personal_fen + record.hospital_fen)
    if record.fund_fen + record.personal_fen + record.hospital_fen != record.total_fen:
        yield warning("QC-REC-009", "record.setlinfo.medfee_sumamt",
                      f"结算记录的基金、个人与医院负担之和 {shares} 不等于医疗费总额 {total}",
                      f"the settlement record's fund, personal and hospital shares ({shares}) differ from its "
                      f"medfee_sumamt {total}")

