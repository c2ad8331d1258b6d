"""No cluster and no docker here: the Kubernetes manifests and the Dockerfile are checked as text."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..conftest import ROOT

DEPLOY = ROOT / "deploy"


def manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found[document["kind"]] = document
    return found


def test_deployment_service_and_autoscaler_are_there() -> None:
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(manifests())


def test_the_probes_ask_health_on_the_served_port() -> None:
    deployment = manifests()["Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    [port] = container["ports"]
    assert port["containerPort"] == 8080
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/health"
        assert get["port"] in (port["containerPort"], port["name"])
    assert deployment["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert container["resources"]["requests"]["cpu"]  # the autoscaler's utilisation needs a request
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_service_and_autoscaler_point_at_the_deployment() -> None:
    found = manifests()
    deployment, service, hpa = found["Deployment"], found["Service"], found["HorizontalPodAutoscaler"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert service["spec"]["ports"][0]["targetPort"] in (8080, container["ports"][0]["name"])
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_the_dockerfile_is_small_non_root_and_health_checked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.M)
    assert "EXPOSE 8080" in text and "--port 8080" in text
    assert "pip install" in text and ".whl" in text and "PYTHONPATH" not in text  # the wheel, with its profiles, is what runs


def test_every_pod_uses_the_one_shared_database_from_a_secret() -> None:
    [container] = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    # a SQLite file per pod would give each replica its own feedback counts and its own used-token list
    assert env["MEDVAL_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "url"
    assert "value" not in env["MEDVAL_DATABASE_URL"]
