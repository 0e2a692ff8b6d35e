"""A synthetic list as DIP's case input (``../shared/dip/FORMAT.md``: ``case_id``, ``dx``, ``px``, ``total_cost``).

``medpay synth --dip`` writes these beside the lists (``dip_cases.jsonl``), so that a base period can be fed to
``medpay dip build --history`` or uploaded to ``BuildDipCatalogue`` as it is; the demo's DIP prefecture does so.
The codes are the list's own, as written (principal diagnosis first, procedures in the list's order), and the
cost is the stay's total as the core system settled it.
"""

from __future__ import annotations

from typing import Any


def dip_case(request: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """The FORMAT.md case of one written 4101A list and its truth line; ``case_id`` is the settlement id."""
    body = request["input"]
    diagnoses = sorted(body["diseinfo"], key=lambda row: row.get("maindiag_flag") != "1")  # stable: principal first
    return {"case_id": body["setlinfo"]["setl_id"], "dx": [row["diag_code"] for row in diagnoses],
            "px": [row["oprn_oprt_code"] for row in body["oprninfo"]],
            "dscg_date": str(body["setlinfo"]["setl_end_date"])[:10], "total_cost": truth["total"]}
