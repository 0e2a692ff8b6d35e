"""The case mix of a Chinese prefecture: which ADRGs its hospitals discharge, who the patients are, what else
they have, who dies, and which department treats them.

Sources of the proportions (rounded, illustrative: shaped like the national figures, not any one city's):
- MDC shares: 《中国卫生健康统计年鉴 2022》, table "医院出院病人疾病构成" (discharges by ICD-10 chapter, 2021):
  circulatory about 16%, respiratory 11-13%, digestive 11%, neoplasms 8%, injuries 7%, pregnancy and childbirth
  6%, musculoskeletal 6%, genitourinary 6%, nervous 4%, endocrine 3.5%, eye 2.5%. Mapped onto the CHS-DRG MDCs:
  cerebrovascular disease (an ICD-10 circulatory chapter) is MDC B, chemotherapy and radiotherapy are MDC R.
- The most frequent ADRGs: the CHS-DRG 1.1 group-frequency tables published by pilot cities (e.g. the
  国家医保局 DRG/DIP payment reform briefings 2021-2023): respiratory infection (ES3), cerebral ischaemia (BR2),
  coronary atherosclerosis (FR4), vaginal delivery (OR1), caesarean section (OB1), chemotherapy (RE1),
  cataract (CB3), cholecystectomy (HC2) and neck and back disorders (IU2) lead everywhere.
- Surgical share by level: 国家三级公立医院绩效考核 national reports (出院患者手术占比 about 30-40% at tertiary
  hospitals) and the yearbook's secondary and primary hospital figures (about 25% and 10%).
- Comorbidity prevalence by age and sex: China Hypertension Survey 2012-2015 (Wang Z et al., Circulation 2018),
  diabetes (Li Y et al., BMJ 2020), COPD (Wang C et al., Lancet 2018, China Pulmonary Health study),
  dyslipidaemia and fatty liver (China Chronic Disease and Risk Factor Surveillance), osteoporosis (China
  Osteoporosis Epidemiological Survey 2018); lowered for what inpatient records code (under-recording).
- Mortality: in-hospital mortality about 0.5% of discharges (yearbook), concentrated in the severe groups
  (respiratory failure, myocardial infarction, intracranial haemorrhage, heart failure, sepsis, liver failure,
  advanced cancer) and among the elderly; near zero in obstetric, eye and elective surgical groups, which is
  what makes low-risk group mortality (低风险组死亡率) a safety signal.
- Departments: 《医疗机构诊疗科目名录》 codes as the national settlement list uses them (A03.01 呼吸内科 ...).
- Costs, and so the relative weights and CMIs: the common groups' mean costs as prefecture reports show them
  (``COST_HINTS``), the rest around ``TAIL_COSTS``; the prefecture's mean cost per discharge then sits near the
  yearbook's (次均住院费用), so that a pneumonia weighs about 0.5-0.8, a delivery 0.3-0.4 and a hip replacement
  about 4, as in the weight tables pilot cities publish. Case-mix indices (CMI) against the region's own weights
  come out about 1.1 at tertiary hospitals, 0.9-1.0 at secondary ones, 0.85 at primary ones (elderly medical
  patients, few births) and at maternal and child health hospitals (births are light, their neonatal intensive
  care and caesareans are not); real prefectures report primary and maternal hospitals lower still (0.6-0.8),
  the synthetic one keeps every hospital within about 0.8-1.2 (tests/unit/synth/test_case_mix.py).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MDC_SHARES: Mapping[str, float] = {
    "F": 11.0, "B": 7.5, "E": 12.0, "G": 8.0, "H": 3.5, "I": 8.5, "O": 6.0, "P": 2.5, "R": 5.0, "L": 4.5,
    "N": 3.5, "M": 1.2, "K": 3.0, "D": 2.5, "C": 2.5, "J": 2.5, "Q": 1.0, "S": 1.2, "T": 1.0, "U": 0.2,
    "V": 2.5, "W": 0.3, "X": 2.0, "Y": 0.05, "Z": 0.4, "A": 0.4,
}
"""Percent of discharges per MDC (normalised over the MDCs a scheme has)."""

ADRG_SHARES: Mapping[str, float] = {
    # respiratory: pneumonia and bronchitis, COPD, lung cancer, respiratory failure
    "ES3": 0.50, "ET2": 0.15, "EX2": 0.04, "ER1": 0.06, "ER3": 0.05,
    # nervous: cerebral infarction, intracranial haemorrhage, neuropathies, epilepsy
    "BR2": 0.55, "BR1": 0.08, "BX2": 0.04, "BV1": 0.03,
    # circulatory: coronary disease, angina, heart failure, stents, hypertension, arrhythmia, AMI
    "FR4": 0.20, "FR3": 0.10, "FR2": 0.10, "FM1": 0.08, "FV2": 0.08, "FU2": 0.06, "FR1": 0.04, "FM3": 0.04,
    # digestive
    "GW1": 0.12, "GU2": 0.08, "GK3": 0.08, "GK2": 0.05, "GE1": 0.07, "GD2": 0.05, "GS1": 0.06, "GR1": 0.08,
    "GF1": 0.06, "GV1": 0.06,
    # hepatobiliary and pancreas
    "HC2": 0.30, "HU1": 0.15, "HT2": 0.12, "HS2": 0.06,
    # musculoskeletal
    "IU2": 0.30, "IU1": 0.10, "IC2": 0.07, "IR2": 0.05, "IF4": 0.06, "IF1": 0.06, "IB2": 0.04,
    # pregnancy and childbirth; newborns
    "OR1": 0.46, "OB1": 0.30, "OZ1": 0.08, "OS2": 0.05, "OF2": 0.04,
    "PU1": 0.35, "PS4": 0.20, "PS3": 0.15, "PV1": 0.10, "PR1": 0.05,
    # neoplasm treatment: chemotherapy first
    "RE1": 0.62, "RW2": 0.08, "RC1": 0.08, "RG1": 0.06, "RS1": 0.04,
    "LX1": 0.25, "LR1": 0.15, "LB1": 0.12, "LU1": 0.10, "LL1": 0.08,
    "NE1": 0.18, "NZ1": 0.15, "NC1": 0.15, "ND1": 0.12, "NF1": 0.08,
    "MB1": 0.35, "MS1": 0.15,
    "KS1": 0.60, "KT1": 0.12, "KD2": 0.10,
    "DT1": 0.25, "DD2": 0.15, "DE2": 0.12, "DT2": 0.08,
    "CB3": 0.50, "CB1": 0.12, "CW1": 0.10,
    "JB2": 0.15, "JR1": 0.15, "JU1": 0.15, "JV2": 0.15, "JA2": 0.08,
    "QS4": 0.35, "QS1": 0.20, "ST1": 0.30, "SU1": 0.25, "SR1": 0.15, "TS1": 0.30, "TR1": 0.30,
    "VR1": 0.35, "VS2": 0.20, "VJ1": 0.15, "XR2": 0.35, "XS1": 0.15, "XR3": 0.15, "ZZ1": 0.50, "WZ1": 0.60,
    "AH1": 0.70, "UR1": 0.80, "YR1": 0.80,
}
"""Share of an MDC's discharges in its most frequent ADRGs; the rest of the MDC spreads over its other ADRGs
(a seeded Zipf tail: every group the scheme has still occurs)."""


def adrg_kind(adrg: str) -> str:
    """CHS-DRG naming: the ADRG's second letter A-J is an operating-room group, K-Q a non-OR procedure
    group, R-Z a medical group."""
    second = adrg[1:2]
    return "surgical" if "A" <= second <= "J" else "procedural" if "K" <= second <= "Q" else "medical"


LEVEL_FACTORS: Mapping[str, Mapping[int, float]] = {
    "surgical": {1: 0.45, 2: 0.92, 3: 1.18},
    "procedural": {1: 0.6, 2: 0.92, 3: 1.18},
    "medical": {1: 1.2, 2: 1.04, 3: 0.96},
}
"""How much more (or less) of each kind of group a hospital level treats than the prefecture as a whole: OR
groups make about 35% of a tertiary hospital's discharges, 28% of a secondary and 15% of a primary one's."""
PRE_MDC_BY_LEVEL: Mapping[int, float] = {1: 0.0, 2: 0.08, 3: 1.4}
"""Transplants, ECMO and long ventilation (MDC A) happen at tertiary hospitals, rarely at secondary ones (about
0.7% of a tertiary hospital's discharges, 0.4% of the prefecture's)."""
PRIMARY_MDC_FACTORS: Mapping[str, float] = {"O": 0.3, "P": 0.1, "X": 2.0}
"""Primary hospitals deliver few babies and have no neonatal ward: births have moved to county hospitals and
maternal and child health hospitals (the yearbook's 住院分娩 figures), and a newborn who needs a ward goes there.
They keep the long rehabilitation stays (MDC X) the larger hospitals hand on."""
PRIMARY_ELDERLY_FACTOR = 1.5
"""Primary hospitals' beds hold more of the elderly's chronic stays (strokes, COPD, heart failure) than the
prefecture's as a whole; their children go to the county hospital (``PRIMARY_CHILD_FACTOR``)."""
PRIMARY_CHILD_FACTOR = 0.4

KIND_FACTORS: Mapping[str, Mapping[str, float]] = {
    # maternal and child health hospitals (妇幼保健院): obstetrics, newborns, gynaecology, children's illnesses
    "specialty": {"O": 14.0, "P": 14.0, "N": 6.0, "D": 1.0, "E": 0.6, "*": 0.04},
    # TCM hospitals: more back pain, stroke rehabilitation, fewer operations
    "tcm": {"I": 1.5, "B": 1.3, "X": 2.0, "*": 1.0},
}
"""MDC multipliers by hospital kind (``*``: every other MDC)."""
KIND_ADRG_FACTORS: Mapping[str, Mapping[str, float]] = {
    # The prefecture's critical maternal and neonatal care centres (危重孕产妇/新生儿救治中心, required of every
    # prefecture and county since the 2017 母婴安全 notice) sit mostly in its maternal and child health
    # hospitals: very preterm and ventilated newborns, respiratory distress; and more caesareans than the
    # national 37% of births (Li HT et al., JAMA 2020, 2018 data), the high-risk pregnancies being theirs.
    "specialty": {"PS1": 3.0, "PS2": 3.0, "PR1": 3.0, "PK1": 3.0, "OB1": 1.3},
}
"""ADRG multipliers by hospital kind, on top of ``KIND_FACTORS``."""


AGE_LEANS: Mapping[str, Mapping[str, float]] = {
    "elderly": {"elderly": 5.0, "adult": 1.0, "child": 0.03, "infant": 0.01},
    "respiratory": {"elderly": 2.2, "adult": 1.0, "child": 1.6, "infant": 0.6},
    "child": {"child": 3.0, "infant": 1.0, "adult": 1.0, "elderly": 0.3},
    "default": {"adult": 1.0, "elderly": 0.9, "child": 0.2, "infant": 0.05},
}
"""Weights of a DRG's calibrated patient bands (newborn bands keep weight 1: they only occur in MDC P)."""
ELDERLY_ADRGS = frozenset({
    "BR1", "BR2", "BX1", "BU2", "FR1", "FR2", "FR3", "FR4", "FM1", "FM3", "FV2", "FU1", "FU2", "FK3", "ET2",
    "ER1", "ER3", "KS1", "LR1", "GR1", "HR1", "HS1", "HS2", "RE1", "RW2", "IC2", "IR2", "CB3", "CW1", "MB1",
    "XR2", "XR3", "LL1", "IB2"})
CHILD_ADRGS = frozenset({"DT1", "DT2", "EX1", "EX2", "DE2", "GW1", "SU1", "ST1", "QS1"})


def age_lean(adrg: str) -> Mapping[str, float]:
    if adrg in ELDERLY_ADRGS:
        return AGE_LEANS["elderly"]
    if adrg == "ES3":
        return AGE_LEANS["respiratory"]
    if adrg in CHILD_ADRGS:
        return AGE_LEANS["child"]
    return AGE_LEANS["default"]


@dataclass(frozen=True, slots=True)
class Comorbidity:
    """A chronic condition coded as a secondary diagnosis: candidate codes (the first a scheme leaves neutral
    is used), prevalence among inpatients by age band (<45, 45-64, 65-79, 80+), the sex it applies to (0:
    both) and a multiplier for women."""

    name: str
    codes: tuple[str, ...]
    prevalence: tuple[float, float, float, float]
    sex: int = 0
    women: float = 1.0


COMORBIDITIES: tuple[Comorbidity, ...] = (
    Comorbidity("hypertension", ("I10.x00", "I10.x00x002"), (0.06, 0.30, 0.50, 0.58)),
    Comorbidity("type 2 diabetes", ("E11.900",), (0.03, 0.14, 0.22, 0.20)),
    Comorbidity("hyperlipidaemia", ("E78.500",), (0.04, 0.12, 0.14, 0.10)),
    Comorbidity("coronary atherosclerosis", ("I25.102", "I25.100"), (0.005, 0.06, 0.15, 0.22)),
    Comorbidity("old cerebral infarction", ("I69.300", "I69.300x002"), (0.002, 0.03, 0.09, 0.14)),
    Comorbidity("COPD", ("J44.900",), (0.002, 0.02, 0.07, 0.11), women=0.5),
    Comorbidity("fatty liver", ("K76.000", "K76.001"), (0.06, 0.08, 0.04, 0.02), women=0.7),
    Comorbidity("chronic gastritis", ("K29.500",), (0.04, 0.05, 0.05, 0.04)),
    Comorbidity("hyperuricaemia", ("E79.001", "E79.000"), (0.02, 0.04, 0.04, 0.03), women=0.4),
    Comorbidity("gallstones", ("K80.200", "K80.200x003"), (0.02, 0.04, 0.05, 0.05)),
    Comorbidity("cerebral atherosclerosis", ("I67.200",), (0.0, 0.02, 0.06, 0.09)),
    Comorbidity("osteoporosis", ("M81.900",), (0.0, 0.03, 0.08, 0.12), women=3.0),
    Comorbidity("prostatic hyperplasia", ("N40.x00",), (0.0, 0.06, 0.18, 0.25), sex=1),
    Comorbidity("thyroid nodule", ("E04.100",), (0.02, 0.03, 0.02, 0.01), women=2.5),
    Comorbidity("insomnia", ("G47.000x001", "G47.000"), (0.01, 0.02, 0.03, 0.03)),
)
"""Prevalence among adult inpatients; children carry none of these."""


def age_band(years: int) -> int:
    return 0 if years < 45 else 1 if years < 65 else 2 if years < 80 else 3


DEATH_BY_SEVERITY: Mapping[str, float] = {"1": 1.0, "3": 0.25, "5": 0.06, "9": 0.2}
"""Relative risk of dying by the DRG's severity suffix (MCC; CC; none; not split), multiplied by
``SynthParams.death_rate_mcc_factor`` for MCC groups."""
DEATH_BY_AGE: tuple[float, ...] = (0.25, 0.7, 1.6, 3.5)
"""By age band (<45 including children, 45-64, 65-79, 80+)."""
DEATH_BY_ADRG: Mapping[str, float] = {
    "ER3": 6.0, "FR1": 5.0, "FR2": 3.0, "BR1": 5.0, "HS1": 6.0, "AH1": 8.0, "SR1": 6.0, "FU1": 5.0,
    "GR1": 2.5, "ER1": 3.0, "HR1": 3.0, "RR1": 3.0, "ZZ1": 3.0, "PS1": 6.0, "PK1": 4.0, "ER2": 3.0, "HT1": 4.0,
}
DEATH_BY_MDC: Mapping[str, float] = {"O": 0.01, "C": 0.01, "N": 0.05, "M": 0.05, "D": 0.1, "J": 0.1,
                                     "T": 0.05, "X": 0.3, "P": 0.5}
LOW_RISK_ADRGS = frozenset({"OR1", "OB1", "CB3", "HC2", "GE1", "GD2", "IU2", "DE2", "DD2", "GF1", "NE1", "LB1",
                            "JB2", "JV2", "GK3", "PU1", "DT1", "EX2", "MB1"})
"""Groups where an in-hospital death is all but unheard of (they become the low-risk groups)."""
LOW_RISK_FACTOR = 0.01


def death_factor(adrg: str, mdc: str, severity: str, years: int) -> float:
    factor = DEATH_BY_SEVERITY.get(severity, 0.2) * DEATH_BY_AGE[age_band(years)]
    if adrg in LOW_RISK_ADRGS:
        return factor * LOW_RISK_FACTOR
    return factor * DEATH_BY_ADRG.get(adrg, 1.0) * DEATH_BY_MDC.get(mdc, 1.0)


COST_HINTS: Mapping[str, tuple[float, float]] = {
    "ES3": (7_200, 8), "BR2": (10_500, 11), "FR4": (8_000, 7), "FR3": (7_500, 6), "FR2": (11_000, 9),
    "FM1": (42_000, 6), "FV2": (6_000, 7), "OR1": (4_200, 3), "OB1": (8_500, 5), "RE1": (6_500, 5),
    "CB3": (7_800, 3), "HC2": (15_000, 6), "IU2": (7_000, 9), "IC2": (60_000, 12), "KS1": (7_500, 9),
    "ET2": (10_000, 9), "GE1": (11_000, 5), "PU1": (3_500, 5), "AH1": (180_000, 22), "LB1": (18_000, 6),
    "GK3": (6_500, 4), "DT1": (4_000, 5), "IR2": (28_000, 14), "GW1": (4_800, 5),
    # obstetrics: assisted delivery, abortion and its disorders, ectopic pregnancy, other pregnancy disorders
    "OC1": (5_500, 4), "OF1": (5_500, 4), "OF2": (2_800, 2), "OS1": (5_000, 5), "OS2": (3_000, 3),
    "OT1": (5_000, 5), "OE1": (10_500, 6), "OJ1": (6_500, 5), "OZ1": (4_500, 5),
    # newborns: the sick full-term baby is cheap, the very preterm baby and the ventilated one are not
    "PS4": (6_500, 8), "PS3": (12_000, 12), "PS2": (32_000, 24), "PS1": (85_000, 45), "PR1": (28_000, 16),
    "PK1": (45_000, 18), "PV1": (5_000, 6), "PC1": (55_000, 18), "PB1": (90_000, 20),
    # gynaecology: hysteroscopy, hysterectomy and myomectomy, adnexal, cervical and vaginal surgery
    "NE1": (7_000, 4), "NC1": (18_000, 8), "ND1": (13_000, 6), "NF1": (6_500, 4), "NB1": (16_000, 7),
    "NZ1": (4_000, 5), "NS1": (4_500, 6), "NR1": (9_000, 8), "NA1": (45_000, 15), "NA2": (25_000, 10),
    # the other frequent ADRGs of ADRG_SHARES, so that none of them gets a seeded cost a real report would not show
    "EX2": (4_500, 6), "ER1": (10_000, 9), "ER3": (12_000, 10), "BR1": (18_000, 14), "BX2": (6_500, 9),
    "BV1": (6_000, 7), "FU2": (6_500, 6), "FR1": (16_000, 9), "FM3": (12_000, 5), "GU2": (7_000, 7),
    "GK2": (9_000, 6), "GD2": (11_000, 6), "GS1": (9_000, 8), "GR1": (11_000, 10), "GF1": (7_000, 6),
    "GV1": (6_000, 7), "HU1": (8_500, 8), "HT2": (11_000, 10), "HS2": (10_000, 11), "IU1": (7_500, 10),
    "IF4": (30_000, 14), "IF1": (20_000, 10), "IB2": (65_000, 14), "RW2": (8_000, 8), "RC1": (35_000, 25),
    "RG1": (20_000, 6), "RS1": (15_000, 12), "LX1": (5_500, 6), "LR1": (10_000, 11), "LU1": (6_000, 8),
    "LL1": (12_000, 10), "MB1": (16_000, 9), "MS1": (5_000, 7), "KT1": (7_000, 8), "KD2": (14_000, 6),
    "DD2": (11_000, 6), "DE2": (7_500, 5), "DT2": (3_500, 5), "CB1": (15_000, 7), "CW1": (4_000, 4),
    "JB2": (14_000, 8), "JR1": (8_000, 6), "JU1": (5_500, 8), "JV2": (5_000, 4), "JA2": (25_000, 12),
    "QS4": (6_500, 8), "QS1": (5_500, 7), "ST1": (6_000, 8), "SU1": (4_500, 6), "SR1": (18_000, 11),
    "TS1": (14_000, 35), "TR1": (16_000, 45), "VR1": (6_000, 8), "VS2": (6_000, 5), "VJ1": (18_000, 10),
    "XR2": (16_000, 22), "XR3": (12_000, 18), "XS1": (5_500, 7), "ZZ1": (15_000, 12), "WZ1": (8_000, 10),
    "UR1": (7_000, 10), "YR1": (15_000, 14),
}
"""Mean cost (yuan, at a secondary hospital without complications) and length of stay of common ADRGs, as
the prefecture reports show them (neonatal groups: the range Chinese NICU cost reports give, tens of thousands
of yuan for babies under 2,000 g); other ADRGs get a seeded cost around ``TAIL_COSTS``."""
TAIL_COSTS: Mapping[str, tuple[float, float, float]] = {"surgical": (18_000, 0.45, 9), "medical": (7_500, 0.4, 8)}
"""(median cost in yuan, log-normal sigma across ADRGs, length of stay) of an ADRG without a hint: with them
the prefecture's mean cost per discharge is about 13,000 yuan at secondary prices (the yearbook's 2021 public
hospital mean is about 11,000 yuan), a common medical group weighs 0.5-0.9 and a delivery about 0.3-0.4, the
relative weights pilot cities publish; a heavier tail makes the common groups too light against the mean."""


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str


ICU = Department("A28", "重症医学科")
MEDICAL_DEPARTMENTS: Mapping[str, Department] = {
    "A": ICU, "B": Department("A03.03", "神经内科"), "C": Department("A10", "眼科"),
    "D": Department("A11", "耳鼻咽喉科"), "E": Department("A03.01", "呼吸内科"),
    "F": Department("A03.04", "心血管内科"), "G": Department("A03.02", "消化内科"),
    "H": Department("A03.02", "消化内科"), "I": Department("A04.03", "骨科"),
    "J": Department("A13", "皮肤科"), "K": Department("A03.07", "内分泌科"), "L": Department("A03.06", "肾内科"),
    "M": Department("A04.04", "泌尿外科"), "N": Department("A05.01", "妇科"), "O": Department("A05.02", "产科"),
    "P": Department("A07.01", "新生儿科"), "Q": Department("A03.05", "血液内科"), "R": Department("A19", "肿瘤科"),
    "S": Department("A16", "感染科"), "T": Department("A15", "精神科"), "U": Department("A15", "精神科"),
    "V": Department("A03", "内科"), "W": Department("A04.07", "烧伤科"), "X": Department("A21", "康复医学科"),
    "Y": Department("A16", "感染科"), "Z": Department("A04", "外科"),
}
SURGICAL_DEPARTMENTS: Mapping[str, Department] = {
    "A": ICU, "B": Department("A04.02", "神经外科"), "C": Department("A10", "眼科"),
    "D": Department("A11", "耳鼻咽喉科"), "E": Department("A04.05", "胸外科"),
    "F": Department("A04.06", "心脏大血管外科"), "G": Department("A04.01", "普通外科"),
    "H": Department("A04.01", "普通外科"), "I": Department("A04.03", "骨科"),
    "J": Department("A04.01", "普通外科"), "K": Department("A04.01", "普通外科"),
    "L": Department("A04.04", "泌尿外科"), "M": Department("A04.04", "泌尿外科"), "N": Department("A05.01", "妇科"),
    "O": Department("A05.02", "产科"), "P": Department("A07.01", "新生儿科"), "Q": Department("A04.01", "普通外科"),
    "R": Department("A19", "肿瘤科"), "S": Department("A04.01", "普通外科"), "T": Department("A15", "精神科"),
    "U": Department("A15", "精神科"), "V": Department("A04", "外科"), "W": Department("A04.07", "烧伤科"),
    "X": Department("A04", "外科"), "Y": Department("A16", "感染科"), "Z": Department("A04.03", "骨科"),
}
PROCEDURAL_DEPARTMENTS: Mapping[str, Department] = {
    "B": Department("A03.03", "神经内科"), "F": Department("A03.04", "心血管内科"),
    "G": Department("A03.02", "消化内科"), "H": Department("A03.02", "消化内科"),
    "L": Department("A03.06", "肾内科"),
}
"""Non-OR procedures (PCI, endoscopy, dialysis) belong to the medical specialty; the rest to the surgical one."""
GENERAL = {"surgical": Department("A04", "外科"), "medical": Department("A03", "内科")}
"""Where a hospital without the specialty treats the case."""


def department_of(adrg: str, mdc: str) -> Department:
    kind = adrg_kind(adrg)
    if kind == "medical":
        return MEDICAL_DEPARTMENTS.get(mdc, GENERAL["medical"])
    if kind == "procedural" and mdc in PROCEDURAL_DEPARTMENTS:
        return PROCEDURAL_DEPARTMENTS[mdc]
    return SURGICAL_DEPARTMENTS.get(mdc, GENERAL["surgical"])


def department_shares(level: int, kind: str) -> dict[Department, float]:
    """Expected share of a hospital's discharges per department (for staffing its doctors): MDC shares split
    into surgical and medical by the level's surgical share."""
    surgical = {1: 0.12, 2: 0.25, 3: 0.38}[level]
    shares: dict[Department, float] = {}
    for mdc, share in MDC_SHARES.items():
        if mdc == "A" and level < 3:
            continue
        factors = KIND_FACTORS.get(kind, {})
        weighted = share * factors.get(mdc, factors.get("*", 1.0))
        for dept, part in ((SURGICAL_DEPARTMENTS.get(mdc, GENERAL["surgical"]), surgical),
                           (MEDICAL_DEPARTMENTS.get(mdc, GENERAL["medical"]), 1 - surgical)):
            shares[dept] = shares.get(dept, 0.0) + weighted * part
    return shares


TAIL_FLATTENING = 0.6
"""The tail's Zipf law is flatter than ``SynthParams.zipf_exponent`` says: no rare operation among the top groups."""

MATERNAL_YEARS = (20, 42)
"""Mothers' ages in MDC O (whatever band a DRG's variant was calibrated with: the rules do not test age)."""


def base_mix(adrgs: Sequence[tuple[str, str]], seed: int, zipf_exponent: float) -> list[float]:
    """The prefecture's share of discharges per ADRG (``adrgs``: (ADRG, MDC) pairs): MDC shares, the common
    ADRGs' shares of their MDC, and the rest of each MDC over its other ADRGs by a Zipf law over a seeded
    ranking (at least 12% of an MDC: the long tail a real prefecture has)."""
    by_mdc: dict[str, list[int]] = {}
    for index, (_, mdc) in enumerate(adrgs):
        by_mdc.setdefault(mdc, []).append(index)
    total_share = sum(MDC_SHARES.get(mdc, 0.5) for mdc in by_mdc)
    weights = [0.0] * len(adrgs)
    for mdc, members in by_mdc.items():
        common = [i for i in members if adrgs[i][0] in ADRG_SHARES]
        tail = [i for i in members if adrgs[i][0] not in ADRG_SHARES]
        random.Random(f"mix:{seed}:{mdc}").shuffle(tail)
        common_share = sum(ADRG_SHARES[adrgs[i][0]] for i in common)
        tail_share = max(0.12, 1 - common_share) if tail else 0.0
        ranks = [1 / (rank + 1) ** (zipf_exponent * TAIL_FLATTENING) for rank in range(len(tail))]
        scale = MDC_SHARES.get(mdc, 0.5) / total_share / (common_share + tail_share)
        for i in common:
            weights[i] = ADRG_SHARES[adrgs[i][0]] * scale
        for i, rank in zip(tail, ranks, strict=True):
            weights[i] = tail_share * rank / sum(ranks) * scale
    return weights


def hospital_mix(adrgs: Sequence[tuple[str, str]], base: Sequence[float], level: int, kind: str) -> list[float]:
    """A hospital's weights: the prefecture's, by how much surgery its level does, pre-MDC groups at tertiary
    hospitals only, and its kind's specialties."""
    factors = KIND_FACTORS.get(kind, {})
    adrg_factors = KIND_ADRG_FACTORS.get(kind, {})
    out = []
    for (adrg, mdc), weight in zip(adrgs, base, strict=True):
        factor = (LEVEL_FACTORS[adrg_kind(adrg)][level] * factors.get(mdc, factors.get("*", 1.0))
                  * adrg_factors.get(adrg, 1.0))
        if level == 1 and kind != "specialty":
            factor *= PRIMARY_MDC_FACTORS.get(mdc, 1.0) * (
                PRIMARY_ELDERLY_FACTOR if adrg in ELDERLY_ADRGS else PRIMARY_CHILD_FACTOR if adrg in CHILD_ADRGS
                else 1.0)
        out.append(weight * factor * (PRE_MDC_BY_LEVEL[level] if mdc == "A" else 1.0))
    if not any(out):  # a scheme with nothing this hospital does: fall back to the prefecture's mix
        return list(base)
    return out
