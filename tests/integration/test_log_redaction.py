"""A real PostgreSQL error, logged the way the services log errors, shows no personal data: SQLAlchemy hides
the statement's parameters and the handler's filter redacts what PostgreSQL quotes (DETAIL lines)."""

from __future__ import annotations

import logging
import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from libs.common.config import Settings
from libs.common.db.engine import create_engine
from libs.common.logs import configure_logging

NAME, PSN_NO, CERTNO = "赵一鸣", "33070019900000004321", "330702199003124317"


async def test_database_errors_are_logged_without_personal_data(database_url: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    engine = create_engine(Settings(database_url=SecretStr(database_url)), pool_size=1)
    table = f"redaction_{uuid.uuid4().hex[:8]}"
    log = logging.getLogger("medpay.rpc")
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE TABLE {table} (psn_no text PRIMARY KEY, psn_name text, certno text "
                                    f"CHECK (length(certno) < 18))"))
        for row in ({"psn_no": PSN_NO, "psn_name": NAME, "certno": "x"},   # stored, then a duplicate key
                    {"psn_no": PSN_NO, "psn_name": NAME, "certno": "x"},
                    {"psn_no": "other", "psn_name": NAME, "certno": CERTNO}):  # a failing CHECK quotes the row
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(f"INSERT INTO {table} VALUES (:psn_no, :psn_name, :certno)"), row)
            except IntegrityError as error:
                assert "parameters hidden" in str(error)
                log.exception("unhandled error in /medpay.collection.v1.CollectionService/UploadSettlementList")
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await engine.dispose()
    out = capsys.readouterr().err
    assert out.count("IntegrityError") >= 2 and "already exists" in out and "Failing row contains" in out
    assert NAME not in out and PSN_NO not in out and CERTNO not in out
