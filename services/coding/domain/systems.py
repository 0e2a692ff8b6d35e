"""The code systems medpay manages: the national medical-insurance coding standards, the administrative
divisions they reference, and the two maps from other code versions to 医保版 2.0."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeSystemDef:
    system_id: str
    title: str
    format: str
    inferable: bool = True
    """Whether the family can be recognised from a code's shape alone (used when no system is named)."""
    is_map: bool = False


ICD10 = "icd10-chs"
ICD9CM3 = "icd9cm3-chs"
DIVISION = "admin-division"
DX_MAP = "icd10-chs-map"
PX_MAP = "icd9cm3-chs-map"

SYSTEMS: tuple[CodeSystemDef, ...] = (
    CodeSystemDef(ICD10, "医保疾病诊断分类与代码 ICD-10 医保版", "letter + 2 digits, '.' + up to 3 (x allowed), "
                  "optional 'x' + 3-digit extension, optional dagger/asterisk pair: I21.000x005, A01.001+K77.0*"),
    CodeSystemDef(ICD9CM3, "医保手术操作分类与代码 ICD-9-CM3 医保版",
                  "2 digits '.' up to 5 digits or capitals (x allowed), optional 'x' + 3- or 4-digit extension: "
                  "36.0600, 00.5500x008"),
    CodeSystemDef("service-item", "医疗服务项目", "15 digits: 001102000010000"),
    CodeSystemDef("drug", "药品", "23 characters: X/Z + 5 class + 4 name + 4 dosage form + 2 spec + 2 package "
                  "+ 5 enterprise: XA01ABD075A002010100483"),
    CodeSystemDef("consumable", "医用耗材", "C + 19 characters (20), optionally followed by a 7-digit model "
                  "serial with or without '-'"),
    CodeSystemDef("institution", "定点医疗机构", "H + 6-digit division that exists + 5-digit serial: H33070300089"),
    CodeSystemDef("pharmacy", "定点零售药店", "P + 6-digit division that exists + 5-digit serial"),
    CodeSystemDef("doctor", "医保医师", "D + 6-digit division that exists + 6-digit serial"),
    CodeSystemDef("nurse", "医保护士", "N + 6-digit division that exists + 6-digit serial"),
    CodeSystemDef("pharmacist", "医保药师", "Y + 6-digit division that exists + 6-digit serial"),
    CodeSystemDef("opsp-disease", "门诊慢特病病种", "M + 5 digits: M03900"),
    CodeSystemDef("per-disease", "按病种结算病种", "no public structure: 1-30 letters, digits or . + * x -; "
                  "checked against the loaded table", inferable=False),
    CodeSystemDef("day-surgery", "日间手术病种", "no public structure: checked against the loaded table",
                  inferable=False),
    CodeSystemDef("insurance-unit", "医保系统单位", "no public structure: checked against the loaded table",
                  inferable=False),
    CodeSystemDef("insurance-staff", "医保系统工作人员", "no public structure: checked against the loaded table",
                  inferable=False),
    CodeSystemDef(DIVISION, "行政区划 GB/T 2260", "6 digits; a prefecture ends in 00, a province in 0000"),
    CodeSystemDef(DX_MAP, "诊断代码映射 (other versions -> 医保版 2.0)", "source diagnosis code", inferable=False,
                  is_map=True),
    CodeSystemDef(PX_MAP, "手术操作代码映射 (other versions -> 医保版 2.0)", "source procedure code",
                  inferable=False, is_map=True),
)

BY_ID = {s.system_id: s for s in SYSTEMS}
MAP_OF = {ICD10: DX_MAP, ICD9CM3: PX_MAP}
