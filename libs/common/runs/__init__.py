"""The run framework: long-running jobs with parameters, an input digest, pinned versions, progress,
checkpoints, resume after a crash or restart, idempotent start by a run key, served as AIP-151 operations.

- ``model``: ``StartRun``, ``Run``, ``RunState``, ``digest``/``canonical_json`` (pure values).
- ``table``/``migration``: the run table of a service schema (``run_table(metadata)``; an Alembic migration
  calls ``create_run_table(schema)``).
- ``executor``: ``Runs`` (start, run_here, resume, get, cancel, wait, operation; open/close with the server),
  ``JobKind``, ``RunContext`` (``checkpoint``, ``save``, ``report``).
- ``operations``: ``add_operations(server, *runs)`` mounts google.longrunning.Operations; ``run_to_proto``.

How a service adopts it is shown in ``executor``'s docstring and in ``protos/README.md``.
"""

from .executor import Job, JobKind, RunContext, Runs
from .model import Progress, Run, RunCancelled, RunError, RunLost, RunState, StartRun, canonical_json, digest
from .table import run_table

__all__ = ["Job", "JobKind", "Progress", "Run", "RunCancelled", "RunContext", "RunError", "RunLost", "RunState",
           "Runs", "StartRun", "canonical_json", "digest", "run_table"]
