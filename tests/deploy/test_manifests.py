"""The Kubernetes manifests validate against the Kubernetes schemas (kubernetes-validate, strict:
no unknown field), and say what the docs promise: an Indexed Job whose shards match --shard,
retried per index, failing an index at once on configuration errors, run as non-root from the
image the Dockerfile builds; the Dockerfile follows the rules the manifests rely on."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from clausewatch.pipeline.portfolio_file import SCHEMA as PORTFOLIO_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
VERSIONS = ["1.33.0", "1.35.0"]  # backoffLimitPerIndex is GA from 1.33


def documents() -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    out = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            out.append((path.name, doc))
    return out


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "doc"), documents(), ids=lambda v: v if isinstance(v, str)
                         else v.get("kind", "?"))
def test_every_manifest_validates_strictly(name: str, doc: dict, version: str) -> None:  # type: ignore[type-arg]
    kubernetes_validate.validate(doc, version, strict=True)


def test_an_unknown_field_would_be_caught() -> None:
    doc = dict(documents())["cronjob.yaml"]
    bad = {**doc, "spec": {**doc["spec"], "shards": 4}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())["resources"]
    present = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml",
                                                          "secret.example.yaml"}
    assert set(listed) == present


def test_the_indexed_job_runs_one_shard_per_index() -> None:
    cron = dict(documents())["cronjob.yaml"]
    job = cron["spec"]["jobTemplate"]["spec"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["completionMode"] == "Indexed" and job["backoffLimitPerIndex"] >= 1
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # required by backoffLimitPerIndex
    (container,) = pod["containers"]
    args = container["args"]
    shard = args[args.index("--shard") + 1]
    assert shard == f"$(SHARD_INDEX)/{job['completions']}"
    env = {e["name"]: e for e in container["env"]}
    assert env["SHARD_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    rule = job["podFailurePolicy"]["rules"][0]
    assert rule["action"] == "FailIndex" and set(rule["onExitCodes"]["values"]) == {2, 7}
    assert rule["onExitCodes"]["containerName"] == container["name"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] and security["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"]
    assert container["resources"]["requests"]["memory"]
    assert "secretRef" in container["envFrom"][0]


def test_the_configmap_holds_a_valid_portfolio_without_a_password() -> None:
    import jsonschema

    config = dict(documents())["configmap.yaml"]
    portfolio = yaml.safe_load(config["data"]["portfolio.yaml"])
    jsonschema.validate(portfolio, PORTFOLIO_SCHEMA)
    assert portfolio["history"].startswith("postgresql://")
    assert ":" not in portfolio["history"].split("://")[1].split("@")[0]  # no password


def test_the_dockerfile_builds_a_slim_non_root_image_from_the_wheel() -> None:
    text = (ROOT / "Dockerfile").read_text()
    instructions = [line.split(None, 1) for line in text.splitlines()
                    if line.strip() and not line.lstrip().startswith("#")
                    and not line.startswith((" ", "\t"))]
    froms = [rest for op, rest in instructions if op == "FROM"]
    assert froms and all(re.match(r"python:3\.\d+-slim", f) for f in froms)
    assert not any(op == "ADD" for op, _ in instructions)  # COPY only
    user = [rest for op, rest in instructions if op == "USER"]
    assert user and user[-1].split(":")[0] == "10001"  # the uid the manifests require
    assert "pip wheel" in text and "--no-index --find-links=/wheels clausewatch" in text
    entry = [rest for op, rest in instructions if op == "ENTRYPOINT"]
    assert entry == ['["clausewatch"]']
    assert ".venv" in (ROOT / ".dockerignore").read_text()
