"""Errors of the services evaluation calls, as evaluation's own: the reason another service gave survives."""

from libs.common.grpc.upstream import upstream_error

__all__ = ["upstream_error"]
