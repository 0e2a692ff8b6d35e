"""The live HTTP door with gateway authentication on: an API key (and an x-tif key) per institution."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from services.collection.api.gateway import Gateway
from services.collection.api.http_server import HttpDoor, HttpDoorConfig

from ...support import free_port
from ..doors import with_gateway
from ..lists import fresh

SEED, CASES = 61, 500  # enough clean lists after the first 180 to hold four newborns (about 1% of stays)


@dataclass(frozen=True)
class HisDoor:
    base: str
    grpc_address: str
    apikeys: dict[str, str]
    rows: list[tuple[dict[str, Any], dict[str, Any]]]
    app: Any

    def key(self, code: str) -> str:
        return self.apikeys[code]


@pytest.fixture(scope="session")
async def his_door(collection_app: tuple[Any, str, Any]) -> AsyncIterator[HisDoor]:
    running, _, app = collection_app
    rows = fresh(seed=SEED, cases=CASES)
    codes = sorted({r["fixmedins_code"] for r, _ in rows})
    apikeys = {code: f"apikey-{code}-4f1c9e07b2" for code in codes}
    gateway = Gateway.parse(",".join(f"tif{code}:s3cret:{code}" for code in codes),
                            ",".join(f"{code}:{key}" for code, key in apikeys.items()))
    door = HttpDoor(with_gateway(app.interface, gateway).app(), HttpDoorConfig(f"127.0.0.1:{free_port()}"),
                    app.interface.busy)
    await door.start()
    yield HisDoor(f"http://127.0.0.1:{door.port}/api/v1/hsa", f"127.0.0.1:{running.port}", apikeys, rows, app)
    await door.stop()
