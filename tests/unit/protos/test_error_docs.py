"""Every error reason an RPC can return is documented in its proto comment (protos/README.md, "Errors").

The reasons are read from the code (tests/unit/protos/reasons.py): what each servicer method, and everything it
calls, raises with a literal reason. The authorization errors come from the access tables of the service
declarations: UNAUTHENTICATED everywhere, PERMISSION_DENIED [ROLE_NOT_ALLOWED] where a method is not open to
every role.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from libs.common.auth.roles import EVERYONE
from libs.common.registry import services as declared_services

from ...support import ROOT
from .reasons import Code, Rpc, Service, read_code, services

UNAUTHENTICATED = ("UNAUTHENTICATED", "UNAUTHENTICATED")
ROLE_NOT_ALLOWED = ("PERMISSION_DENIED", "ROLE_NOT_ALLOWED")

# Reasons the reading of the code finds on a path that the method's own arguments never take: each is raised
# by a check that the data already passed when it was stored, or by a branch the method does not enter.
UNREACHABLE: dict[str, set[tuple[str, str]]] = {
    # ListSchemes asks only for the schemes it serves, at their latest version; ListDipCatalogues likewise.
    "medpay.grouping.v1.GroupingService.ListSchemes": {("NOT_FOUND", "SCHEME_NOT_FOUND"),
                                                       ("NOT_FOUND", "SCHEME_VERSION_NOT_FOUND")},
    "medpay.grouping.v1.GroupingService.ListDipCatalogues": {("NOT_FOUND", "SCHEME_VERSION_NOT_FOUND")},
    # The review run key is made of the region, the period and the rule set version it pins: one key, one run.
    "medpay.review.v1.ReviewService.StartReviewRun": {("ALREADY_EXISTS", "RUN_KEY_REUSED")},
    # A stored policy was validated when it was created; reading it back re-parses it.
    **{f"medpay.settlement.v1.{m}": {("INVALID_ARGUMENT", "INVALID_PARAMETER")}
       for m in ("SettlementService.GetPolicy", "SettlementService.ListPolicies", "SettlementService.ActivatePolicy",
                 "SpecialCaseService.ApproveSpecialCase")},
    # Ledger rows were balanced and well-formed when posted; reading them (and reversing one) re-makes the
    # domain values, whose constructors check the same again.
    **{f"medpay.settlement.v1.LedgerService.{m}": {("FAILED_PRECONDITION", "LEDGER_BAD_ACCOUNT"),
                                                  ("FAILED_PRECONDITION", "LEDGER_BAD_ENTRY"),
                                                  ("FAILED_PRECONDITION", "LEDGER_UNBALANCED")}
       for m in ("ListLedgerEntries", "GetLedgerEntry", "ReverseLedgerEntry")},
    "medpay.settlement.v1.LedgerService.ListLedgerAccounts": {("FAILED_PRECONDITION", "LEDGER_BAD_ACCOUNT")},
}


@cache
def _services() -> tuple[Service, ...]:
    return tuple(services(ROOT / "gen" / "protos.binpb"))


def _code() -> Code:
    return read_code(ROOT)


def _rpcs() -> list[Rpc]:
    return [rpc for service in _services() for rpc in service.rpcs]


def _id(rpc: Rpc) -> str:
    return f"{rpc.service.rsplit('.', 1)[1]}.{rpc.method}"


@pytest.mark.parametrize("rpc", _rpcs(), ids=_id)
def test_every_rpc_comment_ends_with_its_errors(rpc: Rpc) -> None:
    assert "Errors:" in rpc.comment, f"{_id(rpc)} has no Errors: paragraph"
    assert UNAUTHENTICATED in rpc.documented, f"{_id(rpc)} does not name UNAUTHENTICATED [UNAUTHENTICATED]"


def test_role_not_allowed_is_documented_exactly_where_a_role_may_not_call() -> None:
    access = {method: roles for d in declared_services() for method, roles in d.access.items()}
    missing, wrong = [], []
    for rpc in _rpcs():
        roles = access.get(f"/{rpc.service}/{rpc.method}")
        assert roles is not None, f"{_id(rpc)} is in no access table: every caller would be refused"
        restricted = set(roles) != set(EVERYONE)
        raised = ROLE_NOT_ALLOWED in _raised(rpc)
        if restricted and ROLE_NOT_ALLOWED not in rpc.documented:
            missing.append(f"{_id(rpc)} (only {', '.join(sorted(r.value for r in roles))})")
        elif not restricted and not raised and ROLE_NOT_ALLOWED in rpc.documented:
            wrong.append(_id(rpc))
    assert missing == [], "PERMISSION_DENIED [ROLE_NOT_ALLOWED] undocumented: " + "; ".join(missing)
    assert wrong == [], "ROLE_NOT_ALLOWED documented on methods every role may call: " + ", ".join(wrong)


def _raised(rpc: Rpc) -> dict[tuple[str, str], list[str]]:
    code = _code()
    servicer = code.servicers.get(rpc.service)
    assert servicer is not None, f"no servicer class implements {rpc.service}"
    method = next((k.methods[rpc.method] for k in code.chain(servicer) if rpc.method in k.methods), None)
    assert method is not None, f"{servicer.name} does not implement {rpc.method}"
    return code.raises(method)


@pytest.mark.parametrize("rpc", _rpcs(), ids=_id)
def test_every_reason_the_code_raises_is_documented(rpc: Rpc) -> None:
    raised = _raised(rpc)
    unreachable = UNREACHABLE.get(f"{rpc.service}.{rpc.method}", set())
    undocumented = {error: path for error, path in raised.items()
                    if error not in rpc.documented and error not in unreachable}
    assert not undocumented, f"{_id(rpc)} can return, undocumented:\n" + "\n".join(
        f"  {code} [{reason}] via {' > '.join(path)}" for (code, reason), path in sorted(undocumented.items()))
    stale = unreachable & set(rpc.documented) | unreachable - set(raised)
    assert not stale, f"UNREACHABLE lists {sorted(stale)} for {_id(rpc)}, which the code no longer says"


@pytest.mark.parametrize("service", _services(), ids=lambda s: s.name.rsplit(".", 1)[1])
def test_the_service_comment_explains_every_reason_of_its_methods(service: Service) -> None:
    reasons = {reason for rpc in service.rpcs for _, reason in rpc.documented}
    assert {r for r in reasons if r not in service.comment} == set()


def test_the_reading_of_the_code_sees_what_a_servicer_raises() -> None:
    """The analysis itself: a servicer's own raise, a call two levels down, a swallowed error, a helper
    reached through an attribute typed by its constructor."""
    collection = next(s for s in _services() if s.name.endswith(".CollectionService"))
    raised = {name: set(_raised(rpc)) for name, rpc in ((r.method, r) for r in collection.rpcs)}
    assert ("INVALID_ARGUMENT", "BATCH_TOO_LARGE") in raised["BatchUploadSettlementLists"]  # its own raise
    assert ("INVALID_ARGUMENT", "INVALID_PAGE_TOKEN") in raised["ListPendingItems"]  # libs.common.paging
    assert ("ALREADY_EXISTS", "REQUEST_ID_REUSED") in raised["UploadSettlementList"]  # servicer > Uploads > ...
    assert ("UNAVAILABLE", "UPSTREAM_UNAVAILABLE") in raised["UploadSettlementList"]  # ... > CodingClient
    # The batch answers a list's failure in its result (asyncio.gather(..., return_exceptions=True)).
    assert ("UNAVAILABLE", "UPSTREAM_UNAVAILABLE") not in raised["BatchUploadSettlementLists"]


def test_the_checks_cover_every_service_of_every_package() -> None:
    """The tests above cannot pass by seeing nothing: the image they read holds every service written in
    protos/medpay (coding, collection with fee details and records, grouping with DIP, settlement with the ledger
    and special cases, review, evaluation), each has a servicer, and the reading of the code finds reasons in
    every one of them."""
    written = {f"medpay.{p.parent.parent.name}.v1.{name}" for p in (ROOT / "protos" / "medpay").rglob("*.proto")
               for name in re.findall(r"^service (\w+) \{", p.read_text(encoding="utf-8"), re.M)}
    seen = {s.name for s in _services()}
    assert seen == written
    assert {name.split(".")[1] for name in seen} >= {"coding", "collection", "grouping", "settlement", "review",
                                                     "evaluation"}
    assert {"BuildDipCatalogue", "UploadSettlementRecords", "StartSettlementRun", "StartReviewRun"} <= {
        rpc.method for rpc in _rpcs()}
    silent = [s.name for s in _services() if not any(_raised(rpc) for rpc in s.rpcs)]
    assert silent == [], f"the reading of the code finds no error in any method of {silent}"
