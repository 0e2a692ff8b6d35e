"""Resource names of the settlement service (AIP-122) and their parsing into ids."""

from __future__ import annotations

import re

from libs.common.errors import InvalidArgument

REGION = re.compile(r"regions/([0-9]{6})")
POLICY = re.compile(r"regions/([0-9]{6})/policies/([0-9]{4})-v([1-9][0-9]{0,5})")


def parse_region(parent: str, field: str = "parent") -> str:
    matched = REGION.fullmatch(parent)
    if matched is None:
        raise InvalidArgument.field(field, f"{parent!r} is not a region (regions/{{6-digit code}})")
    return matched[1]


def parse_policy_name(name: str, field: str) -> tuple[str, int, int]:
    """(region, year, version) of ``regions/{region}/policies/{year}-v{version}``."""
    matched = POLICY.fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not a policy name (regions/{{region}}/policies/"
                                    "{year}-v{version})")
    return matched[1], int(matched[2]), int(matched[3])
