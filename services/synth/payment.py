"""Who pays for a stay: the core system's settlement (2304) under the prefecture's benefit policy, in fen.

Integer arithmetic throughout (amounts in fen, ratios in per mille, rounding down to the fen as the core system
does), so a settlement's parts add up exactly: ``fund + account + cash == total`` and
``fund == pooled + civil + large + serious + aid``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

from .costs import FeeItem
from .params import Policy
from .people import Person

MATERIALS = 8


class Settlement(NamedTuple):
    """One settlement of a stay (an immutable tuple: one or two are made per list)."""

    total: int        # medfee_sumamt
    ownpay: int       # fulamt_ownpay_amt: items outside the catalogue, fully self-paid
    over_limit: int   # overlmt_selfpay: the part of a price above its limit
    preselfpay: int   # preselfpay_amt: class B items' first self-paid share
    in_scope: int     # inscp_scp_amt: total - ownpay - over_limit
    deductible: int   # act_pay_dedc: the deductible actually applied
    ratio: int        # the pooled fund's ratio, per mille
    pooled: int       # hifp_pay: basic insurance pooled fund
    civil: int        # cvlserv_pay: civil-servant subsidy
    large: int        # hifob_pay: employees' large-amount fund
    serious: int      # hifmi_pay: residents' serious-illness insurance
    aid: int          # maf_pay: medical aid
    account: int      # acct_pay: the employee's personal account
    cash: int         # psn_cash_pay
    balance: int      # balc: the account's balance after the settlement

    @property
    def fund(self) -> int:
        return self.pooled + self.civil + self.large + self.serious + self.aid

    @property
    def personal(self) -> int:
        return self.account + self.cash


def settle(fees: Sequence[FeeItem], *, person: Person, insutype: str, years: int, level: int, policy: Policy,
           rng: random.Random) -> Settlement:
    total = sum(f[1] for f in fees)
    ownpay = sum(f[4] for f in fees)
    class_b = sum(f[3] for f in fees)
    over_limit = 0
    if rng.random() < policy.over_price_limit_rate:
        materials = sum(f[1] - f[4] for f in fees if f[0] == MATERIALS)
        over_limit = int(materials * rng.uniform(0.01, 0.06))
    in_scope = total - ownpay - over_limit
    preselfpay = class_b * policy.class_b_preselfpay // 1000
    base = max(0, in_scope - preselfpay)
    deductible = min(policy.deductible[(insutype, level)], base)
    ratio = policy.pooled_ratio[(insutype, level)] + (policy.retiree_bonus if insutype == "310" and years >= 60
                                                      else 0)
    eligible = base - deductible
    cap = policy.pooled_cap[insutype]
    pooled = eligible * ratio // 1000
    large = 0
    if pooled > cap:
        pooled = cap
        if insutype == "310":
            above = eligible - -(-cap * 1000 // ratio)  # what the pooled ratio could not cover below the cap
            large = max(0, above) * policy.large_amount_ratio // 1000
    burden = in_scope - pooled - large
    serious = 0
    if insutype == "390" and burden > policy.serious_threshold:
        serious = (burden - policy.serious_threshold) * policy.serious_ratio // 1000
    civil = burden * policy.civil_servant_ratio // 1000 if person.civil_servant and insutype == "310" else 0
    aid = (burden - serious) * policy.assisted_ratio // 1000 if person.assisted and insutype == "390" else 0
    personal = total - (pooled + civil + large + serious + aid)
    account = balance = 0
    if insutype == "310":
        before = (1_000 + person.trait % 20_000) * 100  # 1,000 to 21,000 yuan in the account
        account = min(before, int(personal * rng.uniform(*policy.account_use)))
        balance = before - account
    return Settlement(total, ownpay, over_limit, preselfpay, in_scope, deductible, ratio, pooled, civil, large,
                      serious, aid, account, personal - account, balance)


# (fund_pay_type, name) of each fund, as setldetail and the older payinfo name them.
FUNDS = {
    ("310", "pooled"): ("310100", "职工基本医疗保险统筹基金"),
    ("390", "pooled"): ("390100", "城乡居民基本医疗保险基金"),
    ("310", "civil"): ("320100", "公务员医疗补助基金"), ("310", "large"): ("330100", "职工大额医疗费用补助基金"),
    ("390", "serious"): ("390200", "城乡居民大病医疗保险基金"), ("310", "aid"): ("610100", "医疗救助基金"),
    ("390", "aid"): ("610100", "医疗救助基金"),
}


def fund_parts(s: Settlement, insutype: str) -> list[tuple[str, str, int]]:
    """(fund_pay_type, name, fen) of the funds that paid: the pooled fund always, the others when they paid."""
    parts = [(*FUNDS[(insutype, "pooled")], s.pooled)]
    for kind, amount in (("civil", s.civil), ("large", s.large), ("serious", s.serious), ("aid", s.aid)):
        if amount:
            parts.append((*FUNDS[(insutype, kind)], amount))
    return parts


def without_late_charges(fees: Sequence[FeeItem], rng: random.Random) -> list[FeeItem]:
    """The stay's fees as first settled, before charges posted late (2-10% of one category) were added: the
    first version of a record the core system later revises."""
    out = list(fees)
    i = max(range(len(out)), key=lambda j: out[j][2])
    category, amount, class_a, class_b, self_paid, other = out[i]
    late = min(class_a - 1, max(1, int(amount * rng.uniform(0.02, 0.10))))
    out[i] = (category, amount - late, class_a - late, class_b, self_paid, other)
    return out
