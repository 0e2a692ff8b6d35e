"""``medpay auth init``: a development certificate authority, a certificate per service and for tools, and the
token signing key pair, written to one directory (``MEDPAY_AUTH_DIR``).

Layout (every name fixed, so a k8s Secret can hold the same files):

    ca.pem, ca-key.pem                  the development CA (production brings its own CA; cert-manager)
    <service>.pem, <service>-key.pem    server and client certificate of each service (CN = the service name;
                                        DNS names: the name, medpay-<name>, localhost; IPs 127.0.0.1, ::1)
    client.pem, client-key.pem          the certificate tools present (demo, CLI, grpcurl, tests); CN = client
    token-signing-key.pem               Ed25519 private key that signs tokens (``medpay auth token``)
    token-signing.pub.pem               its public key, all a service needs to verify tokens

Keys are written 0600. TLS keys are ECDSA P-256 (what every gRPC TLS stack speaks); tokens are EdDSA (Ed25519).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .roles import AuthConfigError

CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
CLIENT = "client"
SIGNING_KEY, VERIFY_KEY = "token-signing-key.pem", "token-signing.pub.pem"
VALID_DAYS = 825


class AuthDirError(AuthConfigError):
    """An auth directory that cannot be used as asked (files missing, or present when init would overwrite)."""


def cert_file(directory: Path, name: str) -> Path:
    return directory / f"{name}.pem"


def key_file(directory: Path, name: str) -> Path:
    return directory / f"{name}-key.pem"


def init_auth_dir(out: Path, services: Iterable[str], *, force: bool = False,
                  extra_hosts: Iterable[str] = ()) -> list[Path]:
    """Create the directory's material: the CA, a certificate for each of ``services`` (the registry's names,
    ``libs.common.registry.services().names()``) and for tools, the token keys; refuses to overwrite an existing
    CA unless ``force``. Returns the files written. ``extra_hosts`` are added to every service certificate (DNS
    names or IP addresses)."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / CA_CERT).exists() and not force:
        raise AuthDirError(f"{out / CA_CERT} exists; use --force to replace the whole directory's material")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medpay development"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "medpay development CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    written = [_write_cert(out / CA_CERT, ca_cert), _write_key(out / CA_KEY, ca_key)]
    hosts = list(extra_hosts)
    for name in sorted(set(services)):
        names = [name, f"medpay-{name}", "localhost", "127.0.0.1", "::1", *hosts]
        written += _issue(out, name, ca_cert, ca_key, now=now, hosts=names)
    written += _issue(out, CLIENT, ca_cert, ca_key, now=now, hosts=[])
    signing = ed25519.Ed25519PrivateKey.generate()
    written.append(_write_key(out / SIGNING_KEY, signing))
    verify = out / VERIFY_KEY
    verify.write_bytes(signing.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    written.append(verify)
    return written


def _issue(out: Path, name: str, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, *,
           now: dt.datetime, hosts: list[str]) -> list[Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "medpay"),
                                        x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]),
                                        critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return [_write_cert(cert_file(out, name), cert), _write_key(key_file(out, name), key)]


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> Path:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path
