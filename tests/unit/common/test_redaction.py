"""Personal data never reaches a log line: the redaction patterns and the filter on medpay's handler."""

from __future__ import annotations

import json
import logging

import pytest

from libs.common.logs import configure_logging
from libs.common.redaction import REDACTED, redact

NAME, PSN_NO, CERTNO = "张小梅", "33070019850000001234", "33070219850312402X"


@pytest.mark.parametrize("text", [
    f'{{"psn_name": "{NAME}", "psn_no": "{PSN_NO}", "certno": "{CERTNO}"}}',
    f"{{'psn_name': '{NAME}', 'psn_no': '{PSN_NO}', 'certno': '{CERTNO}'}}",
    f"psn_name={NAME} psn_no={PSN_NO} certno={CERTNO}",
    f"psn_name: {NAME}\npsn_no: {PSN_NO}\ncertno: {CERTNO}",
    f"(IntegrityError) duplicate key\nDETAIL:  Key (psn_no, psn_name)=({PSN_NO}, {NAME}) already exists.\n"
    f"[SQL: INSERT INTO t VALUES ($1, $2, $3)]\n[parameters: ('{NAME}', '{PSN_NO}', '{CERTNO}')]",
    f"violates check constraint\nDETAIL:  Failing row contains (7, {NAME}, {PSN_NO}, {CERTNO}).",
    f"patient with ID {CERTNO} (lower-case x: {CERTNO.lower()})",
])
def test_personal_values_are_redacted_however_written(text: str) -> None:
    redacted = redact(text)
    assert NAME not in redacted and PSN_NO not in redacted and CERTNO.lower() not in redacted.lower()
    assert REDACTED in redacted


def test_what_is_not_personal_stays() -> None:
    text = ('{"setl_id": "S2026000123", "fixmedins_code": "H33070300089", "mdtrt_id": "M1", "age": 63}; '
            "Key (setl_id)= is quoted elsewhere; a 20-digit serial 33070020260000001234 and 12345678901234567890123")
    assert redact(text) == text


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_the_handler_redacts_messages_arguments_fields_and_tracebacks(fmt: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", fmt)
    log = logging.getLogger("medpay.test.redaction")
    log.info("stored %s", {"psn_name": NAME, "setl_id": "S1"}, extra={"fields": {"list": {"psn_no": PSN_NO}}})
    try:
        raise ValueError(f"bad row psn_name={NAME} certno={CERTNO}")
    except ValueError:
        log.exception("upload failed")
    logging.getLogger("uvicorn.error").warning("client sent certno=%s", CERTNO)  # any logger, not just medpay's
    out = capsys.readouterr().err
    assert NAME not in out and PSN_NO not in out and CERTNO not in out
    assert "S1" in out and "upload failed" in out and "ValueError: bad row" in out and "client sent" in out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert lines[0]["list"] == {"psn_no": REDACTED}
        assert "psn_name=" + REDACTED in lines[1]["exception"]
