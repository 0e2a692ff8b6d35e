"""Identity and authorisation: the development PKI (``medpay auth init``), signed tokens (``medpay auth token``),
roles and per-method access tables, the tenant checks servicers make, and the audit log.

Modules: ``roles`` (cheap: declarations import it), ``tokens``, ``pki``, ``material`` (what a process reads
from ``MEDPAY_AUTH_DIR``), ``authorizer`` (the server-side check), ``context`` (the current principal and tenant
scoping), ``audit`` (the append-only log of decisions), ``cli`` (the ``medpay auth`` command).
"""
