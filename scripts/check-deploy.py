#!/usr/bin/env python3
"""Offline check of docker-compose.cluster.yml and deploy/kubernetes/*.yaml (no API server, no schema download):
YAML parses; Kubernetes objects have apiVersion/kind/metadata.name; the StatefulSet's selector matches its pod labels
and its serviceName is a headless Service; Services and the PodDisruptionBudget select the pods; container ports and
probes agree with SPLADEX_PORT; every SPLADEX_* variable used exists in src/config/env.ts; in compose, every spladex
service names every NATS service in SPLADEX_NATS_URL with a distinct node id and volume. Exit 1 on any failure."""
import re
import sys
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
env_names = set(re.findall(r"^\s+(SPLADEX_[A-Z_]+):", (root / "src/config/env.ts").read_text(), re.M))
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


docs = []
for f in sorted((root / "deploy/kubernetes").glob("*.yaml")):
    if f.name == "nats-values.yaml":
        yaml.safe_load(f.read_text())
        continue
    for d in yaml.safe_load_all(f.read_text()):
        if d is not None:
            docs.append(d)
for d in docs:
    check({"apiVersion", "kind", "metadata"} <= d.keys() and d["metadata"].get("name"), f"object without apiVersion/kind/name: {d}")
sts = [d for d in docs if d["kind"] == "StatefulSet"]
svcs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
check(len(sts) == 1 and pdbs, "expected one StatefulSet and a PodDisruptionBudget")
for s in sts:
    spec = s["spec"]
    labels = spec["template"]["metadata"]["labels"]
    check(matches(spec["selector"]["matchLabels"], labels), "StatefulSet selector does not match its pod labels")
    headless = svcs.get(spec["serviceName"])
    check(headless is not None and headless["spec"].get("clusterIP") == "None", "serviceName is not a headless Service")
    for svc in svcs.values():
        check(matches(svc["spec"]["selector"], labels), f"Service {svc['metadata']['name']} selects no pod")
    for p in pdbs:
        check(matches(p["spec"]["selector"]["matchLabels"], labels), "PodDisruptionBudget selects no pod")
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    vols = {v["name"] for v in spec["template"]["spec"].get("volumes", [])} | claims
    for c in spec["template"]["spec"]["containers"]:
        env = {e["name"]: e.get("value") for e in c["env"]}
        for name in env:
            check(not name.startswith("SPLADEX_") or name in env_names, f"unknown variable {name}")
        port = int(env.get("SPLADEX_PORT", "8080"))
        named = {p["name"]: p["containerPort"] for p in c["ports"]}
        check(named.get("http") == port, "containerPort http != SPLADEX_PORT")
        check(c["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness probe must be /ready")
        check(c["livenessProbe"]["httpGet"]["path"] == "/health", "liveness probe must be /health")
        for m in c["volumeMounts"]:
            check(m["name"] in vols, f"volumeMount {m['name']} has no volume")
        check("SPLADEX_NATS_URL" in env and "SPLADEX_NODE_ID" in env, "cluster variables missing")

compose = yaml.safe_load((root / "docker-compose.cluster.yml").read_text())
services = compose["services"]
nats = [n for n in services if n.startswith("nats-")]
spladex = [n for n in services if n.startswith("spladex-")]
check(len(nats) == 3 and len(spladex) == 3, "compose: expected 3 NATS and 3 spladex services")
ids, data_vols = set(), set()
for n in spladex:
    env = services[n]["environment"]
    for name in env:
        check(name in env_names, f"compose {n}: unknown variable {name}")
    urls = env["SPLADEX_NATS_URL"]
    for m in nats:
        check(f"nats://{m}:4222" in urls, f"compose {n}: SPLADEX_NATS_URL misses {m}")
    ids.add(env["SPLADEX_NODE_ID"])
    data_vols.update(v for v in services[n]["volumes"] if v.endswith(":/data"))
for m in nats:
    cmd = services[m]["command"]
    check("-js" in cmd and "--routes" in cmd and "--cluster_name" in cmd, f"compose {m}: needs -js, --routes, --cluster_name")
check(len(ids) == 3 and len(data_vols) == 3, "compose: spladex node ids and data volumes must be distinct")
for v in data_vols | {v for m in nats for v in services[m]["volumes"]}:
    src = v.split(":")[0]
    if src.startswith("./"):
        check((root / src).exists(), f"compose: bind source {src} missing")
    else:
        check(src in (compose.get("volumes") or {}), f"compose: volume {v} not declared")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"deploy manifests ok: {len(docs)} Kubernetes objects, {len(services)} compose services")
