"""Who may call the Operations service every run-owning service mounts (a cheap module: the registry reads it).

Runs are the bureaus' jobs (settlement, evaluation, review, DIP catalogues): their progress and results are
for the bureaus and the services acting for them, not for hospitals.
"""

from __future__ import annotations

from ..auth.roles import BUREAUS, access_table

OPERATIONS_ACCESS = access_table("google.longrunning.Operations", {
    "GetOperation": BUREAUS, "ListOperations": BUREAUS, "WaitOperation": BUREAUS, "CancelOperation": BUREAUS,
    "DeleteOperation": BUREAUS,
})
