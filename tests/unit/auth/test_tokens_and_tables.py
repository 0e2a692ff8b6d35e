"""Tokens, the development PKI and the access tables, without a server."""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path

import jwt
import medpay
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from google.protobuf import descriptor_pool

from libs.common.auth.context import principal_var, region_covers, scope_institution, scope_region, tenant_key
from libs.common.auth.pki import init_auth_dir
from libs.common.auth.roles import Principal, Role
from libs.common.auth.tokens import TokenError, TokenVerifier, issue_token, load_signing_key, load_verify_key
from libs.common.errors import PermissionDenied
from libs.common.registry import services


@pytest.fixture(scope="module")
def auth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("auth")
    init_auth_dir(out, services().names())
    return out


def test_init_writes_a_ca_a_certificate_per_service_and_private_keys(auth_dir: Path) -> None:
    ca = x509.load_pem_x509_certificate((auth_dir / "ca.pem").read_bytes())
    for name in (*services().names(), "client"):
        cert = x509.load_pem_x509_certificate((auth_dir / f"{name}.pem").read_bytes())
        assert cert.issuer == ca.subject
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == name
        cert.verify_directly_issued_by(ca)
        assert (auth_dir / f"{name}-key.pem").stat().st_mode & 0o077 == 0
    collection = x509.load_pem_x509_certificate((auth_dir / "collection.pem").read_bytes())
    sans = collection.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "medpay-collection" in sans.get_values_for_type(x509.DNSName)
    with pytest.raises(ValueError, match="exists"):
        init_auth_dir(auth_dir, [])


def test_a_token_names_its_role_and_subject_until_it_expires(auth_dir: Path) -> None:
    key = load_signing_key(auth_dir / "token-signing-key.pem")
    verifier = TokenVerifier(load_verify_key(auth_dir / "token-signing.pub.pem"))
    token = issue_token(key, Role.HOSPITAL, "H33070300089", 60)
    assert verifier.verify(token) == Principal(Role.HOSPITAL, "H33070300089")
    stale = issue_token(key, Role.PREFECTURE, "330700", 60, now=time.time() - 3600)
    with pytest.raises(TokenError, match="expired"):
        verifier.verify(stale)
    other = issue_token(ed25519.Ed25519PrivateKey.generate(), Role.PROVINCE, "ops", 60)
    with pytest.raises(TokenError, match="not valid"):
        verifier.verify(other)
    unsigned = jwt.encode({"iss": "medpay", "sub": "ops", "role": "province", "iat": int(time.time()),
                           "exp": int(time.time()) + 60}, None, algorithm="none")
    with pytest.raises(TokenError):
        verifier.verify(unsigned)
    with pytest.raises(TokenError, match="subject"):
        issue_token(key, Role.HOSPITAL, "330700", 60)
    with pytest.raises(TokenError, match="ttl"):
        issue_token(key, Role.HOSPITAL, "H33070300089", 0)


def _declared_services() -> dict[str, list[str]]:
    """Every gRPC service the generated protos define (medpay.*), with its methods."""
    for module in pkgutil.walk_packages(medpay.__path__, "medpay."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)
    pool = descriptor_pool.Default()
    found: dict[str, list[str]] = {}
    for module in pkgutil.walk_packages(medpay.__path__, "medpay."):
        if module.name.endswith("_pb2"):
            file = pool.FindFileByName(importlib.import_module(module.name).DESCRIPTOR.name)
            for service in file.services_by_name.values():
                found[service.full_name] = [m.name for m in service.methods]
    return found


def test_every_method_of_every_service_is_in_an_access_table() -> None:
    table = services().access_table()
    protos = _declared_services()
    protos["google.longrunning.Operations"] = ["GetOperation", "ListOperations", "WaitOperation",
                                               "CancelOperation", "DeleteOperation"]
    assert len(protos) >= 7
    missing = [f"/{s}/{m}" for s, methods in protos.items() for m in methods if f"/{s}/{m}" not in table]
    assert missing == [], f"methods without roles (add them to ACCESS in services/<svc>/declaration.py): {missing}"
    stale = sorted(set(table) - {f"/{s}/{m}" for s, methods in protos.items() for m in methods})
    assert stale == [], f"access entries for methods that do not exist: {stale}"
    assert all(table.values()), "a method with an empty role set is unreachable: say so explicitly instead"


def test_tenant_scoping_of_hospitals_and_prefectures() -> None:
    assert region_covers("330781", "330700") and region_covers("330700", "330700")
    assert not region_covers("330800", "330700") and not region_covers("330781", "330781"[:4] + "99")
    token = principal_var.set(Principal(Role.HOSPITAL, "H33070300089"))
    try:
        assert scope_institution("") == "H33070300089"
        with pytest.raises(PermissionDenied):
            scope_institution("H33070300090")
        assert tenant_key("r-1") == "H33070300089:r-1"
    finally:
        principal_var.reset(token)
    token = principal_var.set(Principal(Role.PREFECTURE, "330700"))
    try:
        assert scope_region("") == "330700" and scope_region("330781") == "330781"
        with pytest.raises(PermissionDenied):
            scope_region("330800")
        assert scope_institution("H33078100001") == "H33078100001"  # a county's hospital of the prefecture
        with pytest.raises(PermissionDenied):
            scope_institution("H33080300001")
    finally:
        principal_var.reset(token)
    assert scope_institution("H1") == "H1" and tenant_key("r-1") == "r-1"  # dev mode: unchanged


def test_every_unary_request_is_checked_for_its_region_and_institution() -> None:
    from medpay.collection.v1 import collection_service_pb2 as cpb
    from medpay.review.v1 import review_service_pb2 as rpb

    from libs.common.auth.context import check_request_scope

    own = rpb.ListFlagsRequest(parent="regions/330700")
    other = rpb.ListFlagsRequest(parent="regions/330800")
    token = principal_var.set(Principal(Role.PREFECTURE, "330700"))
    try:
        check_request_scope(own)
        check_request_scope(rpb.GetFlagRequest(name="regions/330700/flags/1"))
        with pytest.raises(PermissionDenied):
            check_request_scope(other)
        with pytest.raises(PermissionDenied):
            check_request_scope(cpb.ListSettlementListsRequest(fixmedins_code="H33080300001"))
    finally:
        principal_var.reset(token)
    token = principal_var.set(Principal(Role.HOSPITAL, "H33070208401"))
    try:
        check_request_scope(own)
        check_request_scope(cpb.ListSettlementListsRequest(fixmedins_code="H33070208401"))
        for refused in (other, cpb.ListSettlementListsRequest(fixmedins_code="H33070209902")):
            with pytest.raises(PermissionDenied):
                check_request_scope(refused)
    finally:
        principal_var.reset(token)
    check_request_scope(other)  # dev mode: nobody to check
