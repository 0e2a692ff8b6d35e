"""Plain views of stored lists (for the HTTP adapter's 4103 answer)."""

from __future__ import annotations

import dataclasses
from typing import Any

from libs.common.money import fen_text

from ..adapters.repository import StoredList


def stored_list_view(s: StoredList) -> dict[str, Any]:
    return {
        "setl_list_id": s.setl_list_id, "fixmedins_code": s.fixmedins_code, "setl_id": s.setl_id,
        "psn_no": s.psn_no, "status": s.status, "revision": s.revision, "revision_count": s.revision_count,
        "region": s.region, "period": s.period, "total": fen_text(s.total_fen),
        "group": dataclasses.asdict(s.group) if s.group else None,
        "warnings": [f.as_dict() for f in s.findings],
        "history": [{"status": st, "time": t.isoformat(), "reason": r, "revision": rev} for st, t, r, rev in s.history],
        "input": s.body,
    }
