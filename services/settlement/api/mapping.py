"""Domain values <-> ``medpay.settlement.v1`` messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb

from libs.common.dates import date_to_proto

from ..domain.policies import GroupScheme, PolicyState, PolicyVersion
from ..domain.policy import policy_to_json

_STATES = {PolicyState.DRAFT: pb.POLICY_STATE_DRAFT, PolicyState.ACTIVE: pb.POLICY_STATE_ACTIVE,
           PolicyState.SUPERSEDED: pb.POLICY_STATE_SUPERSEDED}
_SCHEMES = {GroupScheme.DRG: pb.GROUP_SCHEME_DRG, GroupScheme.DIP: pb.GROUP_SCHEME_DIP}


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def group_scheme_from_proto(value: int) -> GroupScheme:
    """Unset is CHS-DRG; an unknown number is refused."""
    if value in (pb.GROUP_SCHEME_UNSPECIFIED, pb.GROUP_SCHEME_DRG):
        return GroupScheme.DRG
    if value == pb.GROUP_SCHEME_DIP:
        return GroupScheme.DIP
    from libs.common.errors import InvalidArgument

    raise InvalidArgument.field("policy.group_scheme", f"unknown group scheme {value}")


def policy_to_proto(version: PolicyVersion) -> pb.Policy:
    import json

    canonical = policy_to_json(version.policy())
    return pb.Policy(
        name=version.name, year=version.year, version=version.version,
        parameters_json=json.dumps(canonical, ensure_ascii=False, indent=1),
        parameters_digest=version.parameters_digest, group_scheme=_SCHEMES[version.group_scheme],
        effective_dates=common_pb2.DateRange(start_date=date_to_proto(version.effective_start),
                                             end_date=date_to_proto(version.effective_end)),
        description=version.description, state=_STATES[version.state], approved_by=version.approved_by,
        create_time=timestamp(version.created_at), activate_time=timestamp(version.activated_at))
