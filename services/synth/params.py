"""Every knob of the generator, documented, with defaults that look like a Chinese prefecture."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FaultRates:
    """Share of lists carrying each data-quality fault (fault codes as written to truth.jsonl)."""

    UNKNOWN_CODE: float = 0.004           # a well-formed secondary diagnosis absent from 医保版 2.0
    MALFORMED_CODE: float = 0.003         # a secondary diagnosis of the wrong shape
    PREGNANCY_CODE_ON_MALE: float = 0.002  # an O-chapter secondary diagnosis on a man
    NEWBORN_WITHOUT_WEIGHT: float = 0.1   # share of newborn lists whose birth weight is left out
    DISCHARGE_BEFORE_ADMISSION: float = 0.002
    FEE_SUM_MISMATCH: float = 0.003       # fee categories do not add up to what was paid
    TRANSFER_WITHOUT_RECEIVER: float = 0.3  # share of transfer discharges (dscg_way 2/3) with no receiver

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SynthParams:
    region: str = "330700"
    hospitals: int = 20
    months: int = 12
    cases: int = 50_000
    seed: int = 7
    scheme: str = "chs-drg-1.1"
    year: int = 2026

    # Case mix: DRG frequency ∝ 1 / rank^zipf_exponent over a seeded random ranking of the scheme's DRGs.
    zipf_exponent: float = 1.1
    # Hospital levels: shares of tertiary (3), secondary (2), primary (1) hospitals.
    level_mix: tuple[float, float, float] = (0.15, 0.55, 0.30)
    # Probability that a case carries an MCC / CC secondary diagnosis where its DRG allows a split, by level.
    mcc_rate_by_level: dict[int, float] = field(default_factory=lambda: {1: 0.08, 2: 0.14, 3: 0.22})
    cc_rate_by_level: dict[int, float] = field(default_factory=lambda: {1: 0.15, 2: 0.22, 3: 0.28})
    # Deaths: base rate, multiplied in MCC groups.
    death_rate: float = 0.006
    death_rate_mcc_factor: float = 6.0
    transfer_rate: float = 0.02

    # Cost: log-normal around the DRG base cost with this coefficient of variation; outlier shares.
    cost_cv: float = 0.6
    high_outlier_rate: float = 0.02    # cost x U(3, 6)
    low_outlier_rate: float = 0.03     # cost x U(0.1, 0.38)
    level_cost_factor: dict[int, float] = field(default_factory=lambda: {1: 0.72, 2: 0.9, 3: 1.18})
    fund_share: tuple[float, float] = (0.6, 0.8)  # share of the total the fund pays
    account_share_of_personal: tuple[float, float] = (0.2, 0.6)  # personal account part of the rest

    # People: share of discharges by a person already seen this year.
    returning_person_rate: float = 0.25

    # Behaviours the review and evaluation functions must detect.
    split_admission_rate: float = 0.02       # readmission within 15 days for a related diagnosis
    aggressive_hospitals: int = 2            # hospitals that upcode
    upcoding_rate: float = 0.25              # at those hospitals: share of splittable cases coded with an MCC
    low_standard_admission_rate: float = 0.015  # short, cheap stays that could have been outpatient

    faults: FaultRates = field(default_factory=FaultRates)
