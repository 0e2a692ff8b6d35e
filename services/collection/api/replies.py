"""The national envelope of the door's answers: ``infcode``, ``inf_refmsgid``, the times, ``err_msg``, ``output``.

Apart from the door (``http.NationalInterface``) so that a bulk import's worker process makes the same answers
without the door's web stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.national.clock import china_now

from ..adapters.door_store import Serials
from ..domain.envelope import stamp


@dataclass
class Replies:
    region: str
    serials: Serials

    def reply(self, infcode: int, err_msg: str, output: Any) -> dict[str, Any]:
        """An answer in the national envelope, now: what a bulk import stores for its lists' msgids, so that a
        replay of an imported list answers as an upload through the door does. One clock reading for both
        times (the answer is made as it is asked for)."""
        now = china_now()
        return self.envelope(now, infcode, err_msg, output, now)

    def envelope(self, received: datetime, infcode: int, err_msg: str, output: Any,
                 responded: datetime | None = None) -> dict[str, Any]:
        """inf_refmsgid: region (6) + yyyyMMddHHmmss + a 10-digit serial unique across replicas."""
        received_at = _stamp(received)
        refmsgid = f"{self.region}{received_at[:14]}{self.serials.next():010d}"
        return {"infcode": infcode, "inf_refmsgid": refmsgid, "refmsg_time": received_at,
                "respond_time": received_at if responded is received else _stamp(
                    china_now() if responded is None else responded), "err_msg": err_msg,
                "output": output}


_second: list[Any] = [None, ""]
"""The last second ``_stamp`` formatted (year to second), and its text."""


def _stamp(moment: datetime) -> str:
    """``envelope.stamp``, its strftime once per second of the clock (a bulk import stamps thousands of replies a
    second: two strftime calls each were a fifth of building its rows)."""
    second = (moment.second, moment.minute, moment.hour, moment.day, moment.month, moment.year)
    if second != _second[0]:
        _second[:] = second, stamp(moment)[:14]
    return f"{_second[1]}{moment.microsecond // 1000:03d}"
