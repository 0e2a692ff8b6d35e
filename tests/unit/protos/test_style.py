"""Every medpay proto follows protos/README.md where a machine can tell (buf lint checks names and comments):
paging on every List with the documented default and maximum, resources named and annotated, field behaviour
on names and parents, one money type and no floats, dates and states typed, actions as custom methods."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pytest
from google.api import field_behavior_pb2, resource_pb2
from google.protobuf import descriptor_pb2

from ...support import ROOT
from .reasons import Code, Rpc, read_code, services

T = descriptor_pb2.FieldDescriptorProto
IDENTIFIER, REQUIRED = field_behavior_pb2.IDENTIFIER, field_behavior_pb2.REQUIRED
MONEY = ".medpay.common.v1.Money"
MONEY_WORDS = re.compile(r"(^|_)(amount|fen|yuan|cost|paid|price|fee|due|deduction)s?($|_)")
DATE_WORDS = re.compile(r"(_date|_day|_month|_time|_at)$")
STATE_WORDS = re.compile(r"(^|_)(status|state)$")
NOT_RESOURCES = {
    # The run framework's operation metadata: its name is the google.longrunning operation's, read through
    # google.longrunning.Operations, not a resource of a medpay API.
    ".medpay.common.v1.Run",
}
NOT_AMOUNTS_OR_DATES = {
    # A count of lists ("uploaded in time"), not a time.
    ".medpay.evaluation.v1.DataQuality.uploaded_in_time",
    # A catalogue's unit reference price: up to 6 decimal places of yuan, finer than the fen of Money.
    ".medpay.review.v1.KnowledgeItem.price",
}
NAME_OPTIONAL = {
    # A list is named by its resource name or by (fixmedins_code, setl_id), the hospital's own key.
    ".medpay.collection.v1.GetSettlementListRequest",
    ".medpay.collection.v1.RevokeSettlementListRequest",
    ".medpay.collection.v1.RestoreSettlementListRequest",
}


@cache
def _files() -> tuple[descriptor_pb2.FileDescriptorProto, ...]:
    image = descriptor_pb2.FileDescriptorSet.FromString((ROOT / "gen" / "protos.binpb").read_bytes())
    return tuple(f for f in image.file if f.package.startswith("medpay."))


def _messages() -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    def walk(prefix: str, messages: list[descriptor_pb2.DescriptorProto]) -> Iterator[
            tuple[str, descriptor_pb2.DescriptorProto]]:
        for message in messages:
            yield f"{prefix}.{message.name}", message
            yield from walk(f"{prefix}.{message.name}", list(message.nested_type))

    for file in _files():
        yield from walk(f".{file.package}", list(file.message_type))


@cache
def _by_name() -> dict[str, descriptor_pb2.DescriptorProto]:
    return dict(_messages())


def _behaviour(field: T) -> list[int]:
    return list(field.options.Extensions[field_behavior_pb2.field_behavior])


def _lists() -> list[Rpc]:
    return [r for s in services(ROOT / "gen" / "protos.binpb") for r in s.rpcs if r.method.startswith("List")]


def _code() -> Code:
    return read_code(ROOT)


@pytest.mark.parametrize("rpc", _lists(), ids=lambda r: r.method)
def test_every_list_pages_with_the_default_and_maximum_it_documents(rpc: Rpc) -> None:
    service = next(s for f in _files() for s in f.service if f"{f.package}.{s.name}" == rpc.service)
    method = next(m for m in service.method if m.name == rpc.method)
    request = {f.name: f for f in _by_name()[method.input_type].field}
    response = {f.name: f for f in _by_name()[method.output_type].field}
    assert request.get("page_size") is not None and request["page_size"].type == T.TYPE_INT32
    assert request.get("page_token") is not None and request["page_token"].type == T.TYPE_STRING
    assert response.get("next_page_token") is not None and response["next_page_token"].type == T.TYPE_STRING
    text = " ".join(rpc.comment.split())
    default = re.search(r"[Dd]efault page size ([\d,]+)", text)
    maximum = re.search(r"at most ([\d,]+)", text)
    assert default and maximum, f"{rpc.method}: the comment names no default page size and maximum"
    code = _code()
    servicer = code.servicers[rpc.service]
    implementation = next(k.methods[rpc.method] for k in code.chain(servicer) if rpc.method in k.methods)
    # 0 means the default (libs.common.paging.page_size), with the sizes the comment promises.
    assert code.page_sizes(implementation) == {(int(default[1].replace(",", "")), int(maximum[1].replace(",", "")))}


def test_resources_are_annotated_and_named() -> None:
    problems = []
    for name, message in _messages():
        annotated = message.options.HasExtension(resource_pb2.resource)
        first = message.field[0] if message.field else None
        named = first is not None and first.name == "name" and first.type == T.TYPE_STRING
        if annotated and not (named and IDENTIFIER in _behaviour(first)):  # type: ignore[arg-type]
            problems.append(f"{name}: a resource whose field 1 is not `string name` [IDENTIFIER]")
        if named and not annotated and not name.endswith("Request") and name not in NOT_RESOURCES:
            problems.append(f"{name}: named like a resource, without google.api.resource")
        if annotated:
            pattern = message.options.Extensions[resource_pb2.resource]
            if not pattern.type.split("/")[0].endswith(".medpay") or not pattern.pattern:
                problems.append(f"{name}: resource type {pattern.type!r} is not <service>.medpay/<Kind>")
    assert problems == [], "\n".join(problems)


def test_every_field_of_a_resource_says_its_behaviour() -> None:
    """AIP-203 on resources: each field is IDENTIFIER, REQUIRED, OUTPUT_ONLY, IMMUTABLE or a mix; a field with
    none leaves clients guessing whether they may set it."""
    resources = [(name, m) for name, m in _messages() if m.options.HasExtension(resource_pb2.resource)]
    assert len(resources) >= 20  # the check reads the image's resources, not nothing
    bare = [f"{name}.{f.name}" for name, m in resources for f in m.field if not _behaviour(f)]
    assert bare == [], "fields without google.api.field_behavior: " + ", ".join(bare)


def test_parents_and_names_of_requests_are_required() -> None:
    problems = []
    for name, message in _messages():
        if not name.endswith("Request"):
            continue
        kind = name.rsplit(".", 1)[1]
        for field in message.field:
            needs = field.name == "parent" or (field.name == "name" and re.match(r"(Get|Delete)", kind)
                                               and name not in NAME_OPTIONAL)
            if needs and REQUIRED not in _behaviour(field):
                problems.append(f"{name}.{field.name}")
    assert problems == [], "not REQUIRED: " + ", ".join(problems)


def test_one_money_type_no_floats_and_typed_dates_and_states() -> None:
    problems = []
    for name, message in _messages():
        if name == MONEY:
            continue
        for field in message.field:
            where = f"{name}.{field.name}"
            if where in NOT_AMOUNTS_OR_DATES:
                continue
            if field.type in (T.TYPE_FLOAT, T.TYPE_DOUBLE):
                problems.append(f"{where}: a float")
            if MONEY_WORDS.search(field.name) and field.type != T.TYPE_MESSAGE and not field.name.endswith(
                    ("_count", "_rate", "_ratio", "_share", "_index", "_cv")):
                problems.append(f"{where}: an amount that is not {MONEY}")
            if field.type == T.TYPE_MESSAGE and field.type_name.endswith(".Money") and field.type_name != MONEY:
                problems.append(f"{where}: a second money type {field.type_name}")
            if DATE_WORDS.search(field.name) and field.type in (T.TYPE_STRING, T.TYPE_INT32, T.TYPE_INT64):
                problems.append(f"{where}: a date or time in a {T.Type.Name(field.type)}")
            if STATE_WORDS.search(field.name) and field.type != T.TYPE_ENUM:
                problems.append(f"{where}: a state that is not an enum")
    assert problems == [], "\n".join(problems)


def test_actions_are_custom_methods_not_status_updates() -> None:
    offenders = [f"{s.name}.{m.name}" for f in _files() for s in f.service for m in s.method
                 if re.match(r"(Update|Set)\w*(Status|State)$", m.name) or m.name.startswith("Set")]
    assert offenders == []


def test_proto_lines_fit_120_columns() -> None:
    long = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "protos" / "medpay").rglob("*.proto"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if len(line) > 120]
    assert long == []
