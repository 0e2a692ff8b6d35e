"""Every knob of the generator, documented, with defaults that look like a Chinese prefecture."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class FaultRates:
    """Share of lists carrying each data-quality fault (fault codes as written to truth.jsonl)."""

    UNKNOWN_CODE: float = 0.004           # a well-formed secondary diagnosis absent from 医保版 2.0
    MALFORMED_CODE: float = 0.003         # a secondary diagnosis of the wrong shape
    PREGNANCY_CODE_ON_MALE: float = 0.002  # an O-chapter secondary diagnosis on a man
    NEWBORN_WITHOUT_WEIGHT: float = 0.1   # share of newborn lists whose birth weight is left out
    DISCHARGE_BEFORE_ADMISSION: float = 0.002
    FEE_SUM_MISMATCH: float = 0.003       # rich lists only: fee categories do not add up to what was paid
    TRANSFER_WITHOUT_RECEIVER: float = 0.3  # share of transfer discharges (dscg_way 2/3) with no receiver

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ItemBehaviourRates:
    """Share of stays whose fee details carry each item-level behaviour (names as written to truth.jsonl)."""

    RESTRICTED_SEX: float = 0.004       # an item for the other sex
    RESTRICTED_AGE: float = 0.004       # an item outside its age band (age at admission)
    DUPLICATE_CHARGE: float = 0.006     # a charge repeated: same item, time, quantity and price
    EXCESSIVE_QUANTITY: float = 0.006   # a day's quantity of an item above its daily maximum
    UNBUNDLED_CHARGE: float = 0.006     # an item and one it includes on the same day


@dataclass(frozen=True)
class Policy:
    """The prefecture's inpatient benefit policy, as the core system applies it when it settles a stay.

    Shaped like Zhejiang prefectures' rules around 2024 (deductible per stay by hospital level, pooled-fund ratio
    by level and insurance type, a per-stay pooled cap above which employees' large-amount fund and residents'
    serious-illness insurance take over, civil-servant subsidy, medical aid for assisted residents); the numbers
    are illustrative, not any one city's. Amounts in fen, ratios in per mille (exact integer arithmetic).
    """

    deductible: dict[tuple[str, int], int] = field(default_factory=lambda: {
        ("310", 1): 30_000, ("310", 2): 60_000, ("310", 3): 80_000,
        ("390", 1): 20_000, ("390", 2): 50_000, ("390", 3): 80_000})
    pooled_ratio: dict[tuple[str, int], int] = field(default_factory=lambda: {
        ("310", 1): 920, ("310", 2): 880, ("310", 3): 850,
        ("390", 1): 850, ("390", 2): 750, ("390", 3): 650})
    retiree_bonus: int = 30                   # retired employees: ratio + 3 points
    class_b_preselfpay: int = 100             # class B items: 10% paid by the patient first (先行自付)
    pooled_cap: dict[str, int] = field(default_factory=lambda: {"310": 30_000_000, "390": 25_000_000})
    large_amount_ratio: int = 850             # employees above the pooled cap (职工大额医疗费用补助)
    serious_threshold: int = 2_000_000        # residents: in-scope personal burden above 20,000 yuan ...
    serious_ratio: int = 600                  # ... is 60% paid by the serious-illness insurance (居民大病保险)
    civil_servant_ratio: int = 500            # civil servants: half of the in-scope personal burden
    assisted_ratio: int = 600                 # medical aid for assisted persons: 60% of what remains in scope
    account_use: tuple[float, float] = (0.2, 0.7)  # employees pay this share of their part from the account
    over_price_limit_rate: float = 0.12       # stays with a consumable priced over its limit (超限价自费)


@dataclass(frozen=True)
class DipMix:
    """How a DIP prefecture's diagnosis + procedure combinations recur (only with ``SynthParams.dip``).

    DIP keys a case by its principal diagnosis (4 characters) and its non-diagnostic procedures. Real base
    years show a few thousand combinations per prefecture with a steep frequency curve: the common ones reach
    the core threshold, a long tail does not. The generator keeps up to ``variants_per_drg`` verified
    (diagnosis, procedures) variants per DRG instead of a handful, and draws them with frequency
    ∝ 1 / rank^``variant_zipf`` (rank in a seeded order) instead of uniformly; ``diagnostic_rate`` of the
    variants also carry a diagnostic procedure (CT, ultrasound, ECG: ICD-9-CM3 87-91), which DIP leaves out
    of the key but which makes a case without other procedures type D. With the default 50,000 lists a year
    about 70-90% of the cases fall in core groups at threshold 15 (tests/unit/synth/test_dip_mix.py).
    """

    variants_per_drg: int = 24
    variant_zipf: float = 1.3
    diagnostic_rate: float = 0.3


@dataclass(frozen=True)
class SynthParams:
    region: str = "330700"
    hospitals: int = 20
    # The period: ``months`` calendar months from ``first_month`` of ``year`` (several years make a base period
    # for settlement weights). A completed year by default: stays in the future are refused by the platform.
    year: int = 2025
    first_month: int = 1
    months: int = 12
    cases: int = 50_000
    seed: int = 7
    # Seed of the draws alone (which stays, when, whose, at what cost); None: ``seed``. The prefecture itself
    # (hospitals, case mix, code variants, cost levels) follows ``seed``, so another period of the same
    # prefecture (a settlement year after its base years) keeps ``seed`` and changes ``draw_seed``.
    draw_seed: int | None = None
    scheme: str = "chs-drg-1.1"
    # Lists as hospital systems send them (4101A node set, no demographics or fee nodes); True: the older rich
    # form with the patient fields, ``iteminfo`` and ``payinfo`` (as some provinces' lists carry them).
    rich_lists: bool = False
    # DIP data (``--dip``): diagnoses and procedures recur the way a DIP prefecture's do, so that a catalogue
    # built from a base period has realistic core/comprehensive proportions (see ``DipMix``).
    dip: bool = False
    dip_mix: DipMix = field(default_factory=DipMix)

    # Case mix: DRG frequency ∝ 1 / rank^zipf_exponent over a seeded random ranking of the scheme's DRGs.
    zipf_exponent: float = 1.1
    # Hospital levels: shares of tertiary (3), secondary (2), primary (1) hospitals.
    level_mix: tuple[float, float, float] = (0.15, 0.55, 0.30)
    # Probability that a case carries an MCC / CC secondary diagnosis where its DRG allows a split, by level.
    # Tertiary hospitals see sicker patients and code them more fully; primary hospitals' elderly carry their
    # comorbidities too (services/synth/mix.py: these rates and the mix give CMIs of about 0.8-1.2).
    mcc_rate_by_level: dict[int, float] = field(default_factory=lambda: {1: 0.12, 2: 0.14, 3: 0.19})
    cc_rate_by_level: dict[int, float] = field(default_factory=lambda: {1: 0.20, 2: 0.22, 3: 0.25})
    # Deaths: base rate, multiplied in MCC groups.
    death_rate: float = 0.006
    death_rate_mcc_factor: float = 6.0
    transfer_rate: float = 0.02

    # Cost: log-normal around the DRG base cost with this coefficient of variation; outlier shares.
    cost_cv: float = 0.6
    high_outlier_rate: float = 0.02    # cost x U(3, 6)
    low_outlier_rate: float = 0.03     # cost x U(0.1, 0.38)
    level_cost_factor: dict[int, float] = field(default_factory=lambda: {1: 0.72, 2: 0.9, 3: 1.18})
    policy: Policy = field(default_factory=Policy)

    # People: share of discharges by a person already seen this year.
    returning_person_rate: float = 0.25

    # Behaviours the review and evaluation functions must detect.
    split_admission_rate: float = 0.02       # readmission within 15 days for a related diagnosis
    aggressive_hospitals: int = 2            # hospitals that upcode
    upcoding_rate: float = 0.25              # at those hospitals: share of splittable cases coded with an MCC
    low_standard_admission_rate: float = 0.015  # short, cheap stays that could have been outpatient

    # Settlement records (2304) from the core system: how their story goes besides one plain record per stay.
    record_revision_rate: float = 0.01   # the record sent again, same setl_id, with corrected values
    resettlement_rate: float = 0.004     # settled, reversed (2305), settled anew under a new setl_id
    cancelled_settlement_rate: float = 0.002  # settled then reversed for good (became self-paid): no list follows

    faults: FaultRates = field(default_factory=FaultRates)
    # Fee details (2301 per listed stay) and the knowledge library they are charged from; False: lists only.
    fee_details: bool = True
    item_behaviours: ItemBehaviourRates = field(default_factory=ItemBehaviourRates)

    @property
    def first_day(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def last_day(self) -> date:
        """The last day of the period."""
        index = self.year * 12 + self.first_month - 1 + self.months  # the month after the period
        return date(index // 12, index % 12 + 1, 1) - timedelta(days=1)

    def month_starts(self) -> list[date]:
        index = self.year * 12 + self.first_month - 1
        return [date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(self.months)]
