"""Tables of the ledger and the special cases, in the ``settlement`` schema (the same ``metadata`` as the run
tables, so that one migration chain and one autogenerate check cover both).

The journal is append-only: ``ledger_entry`` and ``ledger_line`` rows are inserted, never updated or deleted (a
trigger of the migration refuses both). An entry's ``key`` is its idempotency key, unique: a run posted twice
inserts nothing the second time. Amounts are signed fen (debit positive).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Index, Integer, Table, Text, func, text

from .tables import BYTE_ORDER, metadata

ledger_entry = Table(
    "ledger_entry", metadata,
    Column("sequence", BigInteger, Identity(always=True), primary_key=True),
    Column("key", Text, nullable=False),
    Column("region", Text, nullable=False),
    Column("fixmedins_code", BYTE_ORDER, nullable=False),
    Column("kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("period", Text, nullable=False),
    Column("memo", Text, nullable=False),
    Column("reverses", Text, nullable=False, server_default=""),
    Column("posted_by", Text, nullable=False),
    Column("request_id", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ledger_entry_key_idx", "key", unique=True),
    Index("ledger_entry_region_idx", "region", "sequence"),
    Index("ledger_entry_hospital_idx", "region", "fixmedins_code", "sequence"),
    Index("ledger_entry_source_idx", "source"),
    Index("ledger_entry_reverses_idx", "reverses", unique=True, postgresql_where=text("reverses <> ''")),
    Index("ledger_entry_request_idx", "region", "request_id", unique=True, postgresql_where=text("request_id <> ''")),
)
"""One journal entry; ``sequence`` is the posting order and the entry's resource id. A reversal names the key
of the entry it reverses (at most one reversal per entry: a unique index)."""

ledger_line = Table(
    "ledger_line", metadata,
    Column("entry", BigInteger, ForeignKey("settlement.ledger_entry.sequence"), primary_key=True),
    Column("account_id", BYTE_ORDER, primary_key=True),
    Column("region", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("fixmedins_code", BYTE_ORDER, nullable=False, server_default=""),
    Column("amount", BigInteger, nullable=False),
    Index("ledger_line_account_idx", "region", "account_id"),
)
"""One line of an entry: a signed amount in fen on one account (``fund-settlement``,
``H33070300089.advances-payable``, ...)."""

special_case = Table(
    "special_case", metadata,
    Column("region", Text, primary_key=True),
    Column("setl_list_id", BYTE_ORDER, primary_key=True),
    Column("fixmedins_code", BYTE_ORDER, nullable=False),
    Column("year", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("decided_by", Text, nullable=False, server_default=""),
    Column("decision_note", Text, nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("special_case_year_idx", "region", "year", "state"),
    Index("special_case_hospital_idx", "region", "fixmedins_code", "setl_list_id"),
)
"""The current state of each application (one per list); its history is ``special_case_decision``."""

special_case_decision = Table(
    "special_case_decision", metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("region", Text, nullable=False),
    Column("setl_list_id", BYTE_ORDER, nullable=False),
    Column("state", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("request_id", Text, nullable=False, server_default=""),
    Column("request_digest", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("special_case_decision_case_idx", "region", "setl_list_id", "id"),
    Index("special_case_decision_request_idx", "region", "request_id", unique=True,
          postgresql_where=text("request_id <> ''")),
)
"""Every application, approval and rejection, with who made it and the request that did: the audit trail of the
approvals (append-only, like the journal)."""
