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


WEIGHT_TABLE = re.compile(r"regions/([0-9]{6})/weightTables/([0-9]{4})-w([1-9][0-9]{0,5})")
SETTLEMENT_RUN = re.compile(r"regions/([0-9]{6})/settlementRuns/([0-9a-f]{32})")
CASE = re.compile(r"(regions/[0-9]{6}/settlementRuns/[0-9a-f]{32})/caseSettlements/([0-9A-Za-z]{1,64})")


def parse_weight_table_name(name: str, field: str) -> tuple[str, int, int]:
    """(region, year, version) of ``regions/{region}/weightTables/{year}-w{version}``."""
    matched = WEIGHT_TABLE.fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not a weight table name (regions/{{region}}/"
                                    "weightTables/{year}-w{version})")
    return matched[1], int(matched[2]), int(matched[3])


def parse_run_name(name: str, field: str) -> tuple[str, str]:
    """(region, run id) of ``regions/{region}/settlementRuns/{run id}``."""
    matched = SETTLEMENT_RUN.fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not a settlement run name (regions/{{region}}/"
                                    "settlementRuns/{run id})")
    return matched[1], matched[2]


def parse_case_name(name: str, field: str) -> tuple[str, str]:
    """(run name, list id) of ``.../settlementRuns/{run}/caseSettlements/{setl_list_id}``."""
    matched = CASE.fullmatch(name)
    if matched is None:
        raise InvalidArgument.field(field, f"{name!r} is not a case settlement name (regions/{{region}}/"
                                    "settlementRuns/{run}/caseSettlements/{setl_list_id})")
    return matched[1], matched[2]


def run_name(region: str, run_id: str) -> str:
    return f"regions/{region}/settlementRuns/{run_id}"
