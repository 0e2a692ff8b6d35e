"""Field spellings differ between provinces: one canonical spelling per field, the others accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Other spelling -> canonical (the national 4101A spelling), as seen in provincial implementations.
SETLINFO_ALIASES: Mapping[str, str] = {
    "nwbbirwt": "nwb_bir_wt", "nwb_admtype": "nwb_adm_type", "nwbadmwt": "nwb_adm_wt", "nwbage": "nwb_age",
    "otptcmdise": "otp_tcm_dise", "tcmdisecode": "tcm_dise_code", "acp_medins_code": "acp_optins_code",
    "lv3_nursecare_days": "lv3_nurscare_days",
}


def normalise(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an `input` object with setlinfo fields in canonical spelling (canonical wins over alias)."""
    out = dict(body)
    setlinfo = body.get("setlinfo")
    if isinstance(setlinfo, Mapping):
        fixed = {}
        for key, value in setlinfo.items():
            canonical = SETLINFO_ALIASES.get(key, key)
            if canonical not in fixed or key == canonical:
                fixed[canonical] = value
        out["setlinfo"] = fixed
    return out
