"""The rule library: every rule kind medpay knows, by name. A rule set instantiates these."""

from __future__ import annotations

from collections.abc import Mapping

from . import case_rules, cmi_rules, item_rules, peer_rules, quality_rules
from .rules import RuleKind

KINDS: Mapping[str, RuleKind] = {
    kind.name: kind
    for kind in (*case_rules.KINDS, *item_rules.KINDS, *peer_rules.KINDS, *cmi_rules.KINDS, *quality_rules.KINDS)
}
