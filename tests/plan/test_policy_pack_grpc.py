"""The policy pack as the Pulumi CLI runs it: `python -m policies` serving the analyzer gRPC protocol.

This is what `pulumi preview --policy-pack policies` talks to; the requests carry the real program's
resources (from the offline run) so the pack is judged on the shapes it will see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.invariants import INVARIANTS
from stacks.offline import DeclaredResource
from tests.plan.conftest import offline

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    # How the CLI's python analyzer plugin starts a pack: `python -m pulumi.policy <engine> <pack dir>`,
    # with the stack in the environment. The CLI relies on the venv's `-e .` install to import
    # `policies`; PYTHONPATH pins this checkout in case the shared venv's install points elsewhere.
    env = {
        **os.environ,
        "PULUMI_STACK": "prod",
        "PULUMI_PROJECT": "booking",
        "PULUMI_DRY_RUN": "true",
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", str(REPO / "policies")],
        cwd=REPO / "policies",
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())  # the pack prints its port first, like the CLI expects
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def analyzer_resource(r: DeclaredResource, **changes: Any) -> analyzer_pb2.AnalyzerResource:
    props = {**r.inputs, **changes, **({"id": r.id} if r.id else {})}
    return analyzer_pb2.AnalyzerResource(type=r.type, properties=struct(props), urn=r.urn, name=r.name)


def test_the_pack_announces_every_invariant(analyzer: Any) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "booking-guardrails"
    assert [p.name for p in info.policies] == [i.id for i in INVARIANTS]


def test_resource_policy_blocks_a_public_prod_database(analyzer: Any) -> None:
    db = offline("prod").one("aws:rds/instance:Instance")
    request = analyzer_resource(db, publiclyAccessible=True)
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type=request.type, properties=request.properties, urn=db.urn, name=db.name
        )
    )
    diagnostics = [(d.policyName, d.enforcementLevel, d.urn) for d in response.diagnostics]
    assert diagnostics == [("rds-not-public", analyzer_pb2.MANDATORY, db.urn)]
    assert "publiclyAccessible is true" in response.diagnostics[0].message


def test_stack_policies_pass_the_real_prod_stack_and_catch_an_open_service_group(analyzer: Any) -> None:
    run = offline("prod")
    clean = [analyzer_resource(r) for r in run.resources if r.custom]
    assert list(analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=clean)).diagnostics) == []
    opened = [
        analyzer_resource(r, cidrIpv4="0.0.0.0/0") if r.name == "booking-prod-service-in-alb" else resource
        for r, resource in zip((r for r in run.resources if r.custom), clean, strict=True)
    ]
    # referencedSecurityGroupId stays: the rule both opens the world and names the ALB group
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=opened))
    found = {(d.policyName, d.enforcementLevel) for d in response.diagnostics}
    assert ("sg-world-ingress-alb-only", analyzer_pb2.MANDATORY) in found
    assert ("sg-service-ingress-from-alb-only", analyzer_pb2.MANDATORY) in found
    assert all("booking-prod-service-in-alb" in d.message for d in response.diagnostics)
