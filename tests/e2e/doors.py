"""The running service's national door with other credentials or another policy (tests only: a deployment
configures its door once, from its settings)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.collection.api.gateway import Gateway
from services.collection.api.http import DoorPolicy, NationalInterface


def with_gateway(door: NationalInterface, gateway: Gateway, policy: DoorPolicy | None = None) -> NationalInterface:
    """The same door (transactions, region, nonces, serials) with other credentials (and policy)."""
    return NationalInterface(door.transactions, gateway, region=door.region, policy=policy or door.policy,
                             nonces=door.nonces, serials=door.serials)


def with_policy(door: NationalInterface, **changes: Any) -> NationalInterface:
    """The same door with some of its policy changed."""
    return NationalInterface(door.transactions, door.gateway, region=door.region,
                             policy=replace(door.policy, **changes), nonces=door.nonces, serials=door.serials)
