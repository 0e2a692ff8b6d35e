"""gRPC servicer of ``medpay.settlement.v1.LedgerService``: thin, proto -> service layer -> proto. A hospital's
caller (``tenant_of`` names its institution, as for the settlement service's statements) is limited to its own
entries and accounts and may not reverse entries."""

from __future__ import annotations

from typing import Any

import grpc
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import ledger_pb2 as pb
from medpay.settlement.v1 import ledger_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.errors import InvalidArgument, NotFound

from ..domain.ledger import AccountKind, AccountTotals, EntryKind, PostedEntry, account_name, entry_name
from ..service_layer.ledger import Ledger, check_institution
from ..service_layer.names import parse_region
from .mapping import timestamp
from .tenancy import TenantOf, acting, bureau, bureau_only, own_institution

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["LedgerService"].full_name
ACCOUNT_KINDS = {
    AccountKind.FUND_SETTLEMENT: pb.LEDGER_ACCOUNT_KIND_FUND_SETTLEMENT,
    AccountKind.ADJUSTMENT_FUND: pb.LEDGER_ACCOUNT_KIND_ADJUSTMENT_FUND,
    AccountKind.ADVANCES_PAYABLE: pb.LEDGER_ACCOUNT_KIND_ADVANCES_PAYABLE,
    AccountKind.DEPOSITS_WITHHELD: pb.LEDGER_ACCOUNT_KIND_DEPOSITS_WITHHELD,
    AccountKind.CLEARING_BALANCE: pb.LEDGER_ACCOUNT_KIND_CLEARING_BALANCE,
}
ENTRY_KINDS = {EntryKind.ADVANCE: pb.LEDGER_ENTRY_KIND_ADVANCE, EntryKind.CLEARING: pb.LEDGER_ENTRY_KIND_CLEARING,
               EntryKind.REVERSAL: pb.LEDGER_ENTRY_KIND_REVERSAL}


def _money(fen: int) -> common_pb2.Money:
    return common_pb2.Money(fen=fen)


def entry_to_proto(posted: PostedEntry) -> pb.LedgerEntry:
    e = posted.entry
    return pb.LedgerEntry(
        name=posted.name, kind=ENTRY_KINDS[e.kind], idempotency_key=e.key, fixmedins_code=e.fixmedins_code,
        settlement_run=e.source, settlement_period=Period.parse(e.period).to_proto(), memo=e.memo,
        lines=[pb.LedgerLine(account=account_name(line.account), account_kind=ACCOUNT_KINDS[line.account.kind],
                             debit=_money(line.debit.fen), credit=_money(line.credit.fen)) for line in e.lines],
        total=_money(e.total.fen),
        reverses=entry_name(e.region, posted.reverses_sequence) if posted.reverses_sequence else "",
        reversed_by=entry_name(e.region, posted.reversed_by) if posted.reversed_by else "",
        posted_by=posted.posted_by, create_time=timestamp(posted.posted_at))


def account_to_proto(totals: AccountTotals) -> pb.LedgerAccount:
    return pb.LedgerAccount(name=account_name(totals.account), kind=ACCOUNT_KINDS[totals.account.kind],
                            fixmedins_code=totals.account.fixmedins_code, debits=_money(totals.debits),
                            credits=_money(totals.credits), balance=_money(totals.balance))


class LedgerServicer(pb_grpc.LedgerServiceServicer):
    def __init__(self, ledger: Ledger, tenant_of: TenantOf = bureau) -> None:
        self._ledger = ledger
        self._tenant_of = tenant_of

    async def ListLedgerEntries(self, request: pb.ListLedgerEntriesRequest,
                                context: Any) -> pb.ListLedgerEntriesResponse:
        region = parse_region(request.parent)
        code = own_institution(self._tenant_of(context), check_institution(request.fixmedins_code))
        page = await self._ledger.entries(region, fixmedins_code=code, settlement_run=request.settlement_run,
                                          size=request.page_size, token=request.page_token)
        return pb.ListLedgerEntriesResponse(ledger_entries=[entry_to_proto(p) for p in page.entries],
                                            next_page_token=page.next_page_token)

    async def GetLedgerEntry(self, request: pb.GetLedgerEntryRequest, context: Any) -> pb.LedgerEntry:
        if not request.name:
            raise InvalidArgument.field("name", "is required")
        posted = await self._ledger.get(request.name)
        tenant = self._tenant_of(context)
        if tenant is not None and tenant != posted.entry.fixmedins_code:  # another's entry does not exist for it
            raise NotFound(f"no ledger entry {request.name}", reason="LEDGER_ENTRY_NOT_FOUND")
        return entry_to_proto(posted)

    async def ReverseLedgerEntry(self, request: pb.ReverseLedgerEntryRequest, context: Any) -> pb.LedgerEntry:
        tenant = self._tenant_of(context)
        bureau_only(tenant, "reverse ledger entries")
        return entry_to_proto(await self._ledger.reverse(request.name, request.reason, request.request_id,
                                                         acting(tenant)))

    async def ListLedgerAccounts(self, request: pb.ListLedgerAccountsRequest,
                                 context: Any) -> pb.ListLedgerAccountsResponse:
        region = parse_region(request.parent)
        code = own_institution(self._tenant_of(context), check_institution(request.fixmedins_code))
        page = await self._ledger.accounts(region, fixmedins_code=code, size=request.page_size,
                                           token=request.page_token)
        return pb.ListLedgerAccountsResponse(ledger_accounts=[account_to_proto(a) for a in page.accounts],
                                             next_page_token=page.next_page_token)


def add_to_server(servicer: LedgerServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_LedgerServiceServicer_to_server(servicer, server)
