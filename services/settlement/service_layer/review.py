"""What a year-end clearing needs of smart review: the amounts its workflow confirmed per hospital for the year
(``adapters/review_deductions.py`` reads them from ``medpay.review.v1`` in the evaluation process).

Settlement does not import evaluation's code (evaluation calls settlement for its indicators): the proto contract
is the only thing the two share. A clearing pins what it read in its parameters when it starts (part of its run
key and input digest), so the run computes, stores and reproduces the same statements however the flags change
afterwards; flags confirmed after a year was cleared are not in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from libs.common.money import Money, fen_text

PARAMETER = "review_deductions"
"""The run parameter (and run total) holding the pinned deductions: ``{institution: "yuan"}``."""


class ReviewDeductions(Protocol):
    async def confirmed(self, region: str, year: int) -> dict[str, int]:
        """institution -> fen of its confirmed flags on lists of the region's settlement months of ``year``."""
        ...


def pinned_text(deductions: Mapping[str, int]) -> dict[str, str]:
    """The deductions as a run parameter: institutions in order, amounts as yuan text, zeros left out."""
    return {code: fen_text(fen) for code, fen in sorted(deductions.items()) if fen}


def pinned_fen(parameters: Mapping[str, Any]) -> dict[str, int]:
    """The deductions a run pinned (none for runs that did not read review)."""
    return {code: Money.parse(str(yuan)).fen for code, yuan in dict(parameters.get(PARAMETER) or {}).items()}
