"""DeployNotifier on its own under Pulumi mocks, and its EventBridge pattern under a real matcher (moto).

Over 400 lines: the component's resources, IAM, archive and event pattern come from the same
module-scoped run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from moto import mock_aws

from components.notifier import (
    LAMBDA_SOURCE_DIR,
    DeployNotifier,
    DeployNotifierArgs,
    lambda_archive,
    subscription_resource_suffix,
)
from components.notifier_policies import deployment_record_statements, event_pattern
from components.types import EmailSubscription
from stacks.mocks import AwsMocks, Declared
from stacks.offline import DeclaredResource, OfflineRun, run_stack, stack_config
from stacks.settings.notifications import parse_notifications
from tests.ecs_sample_events import (
    ACCOUNT,
    REGION,
    deployment_event,
    service_action_event,
    service_arn,
    task_state_change_event,
)

CLUSTER = "booking-prod"
SERVICE = "api"
SERVICE_ARN = service_arn(CLUSTER, SERVICE)


SUBSCRIPTIONS = (
    EmailSubscription("ops@example.com", "all"),
    EmailSubscription("oncall@example.com", "failures"),
)


def declare(**overrides: Any) -> tuple[list[Declared], dict[str, Any]]:
    recorder = AwsMocks(REGION)
    pulumi.runtime.set_mocks(recorder, project="booking", stack="prod", preview=False)
    outputs: dict[str, Any] = {}
    args = DeployNotifierArgs(
        **{
            "name_prefix": "booking-prod",
            "environment": "prod",
            "cluster_name": CLUSTER,
            "service_arn": SERVICE_ARN,
            "subscriptions": SUBSCRIPTIONS,
            "log_retention_days": 90,
            **overrides,
        }
    )

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        notifier = DeployNotifier("deploy-notifier", args)
        names = ["topic_arn", "function_name", "dead_letter_queue_name", "dead_letter_queue_arn", "rule_name"]
        return pulumi.Output.all(*(getattr(notifier, n) for n in names)).apply(
            lambda values: outputs.update(zip(names, values, strict=True))
        )

    run()
    return recorder.resources, outputs


@pytest.fixture(scope="module")
def declared() -> tuple[list[Declared], dict[str, Any]]:
    return declare()


def only(resources: list[Declared], type_: str) -> Declared:
    [match] = [r for r in resources if r.type == type_]
    return match


def test_component_children_and_outputs(declared: tuple[list[Declared], dict[str, Any]]) -> None:
    resources, outputs = declared
    assert sorted(r.type for r in resources) == sorted(
        [
            "booking:components:DeployNotifier",
            "aws:sns/topic:Topic",
            "aws:sns/topicSubscription:TopicSubscription",
            "aws:sns/topicSubscription:TopicSubscription",
            "aws:sqs/queue:Queue",
            "aws:sqs/queuePolicy:QueuePolicy",
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:lambda/function:Function",
            "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
            "aws:lambda/permission:Permission",
            "aws:cloudwatch/eventRule:EventRule",
            "aws:cloudwatch/eventTarget:EventTarget",
        ]
    )
    assert all(r.name.startswith("deploy-notifier") for r in resources)
    assert outputs == {
        "topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:booking-prod-deployments",
        "function_name": "booking-prod-deploy-notifier",
        "dead_letter_queue_name": "booking-prod-deploy-notifier-dlq",
        "dead_letter_queue_arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:booking-prod-deploy-notifier-dlq",
        "rule_name": "booking-prod-deploy-notifier",
    }


def test_topic_and_dead_letter_queue_are_encrypted(declared: tuple[list[Declared], dict[str, Any]]) -> None:
    resources, _ = declared
    assert only(resources, "aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == "alias/aws/sns"
    queue = only(resources, "aws:sqs/queue:Queue").inputs
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["messageRetentionSeconds"] == 14 * 24 * 3600


def test_each_address_is_subscribed_and_failures_only_ones_are_filtered(
    declared: tuple[list[Declared], dict[str, Any]],
) -> None:
    resources, outputs = declared
    subs = {
        r.inputs["endpoint"]: r.inputs
        for r in resources
        if r.type == "aws:sns/topicSubscription:TopicSubscription"
    }
    assert set(subs) == {"ops@example.com", "oncall@example.com"}
    assert all(s["protocol"] == "email" and s["topic"] == outputs["topic_arn"] for s in subs.values())
    assert "filterPolicy" not in subs["ops@example.com"]
    assert json.loads(subs["oncall@example.com"]["filterPolicy"]) == {"severity": ["warning", "error"]}
    assert subs["oncall@example.com"]["filterPolicyScope"] == "MessageAttributes"


def test_subscription_names_follow_the_address_not_the_list_position() -> None:
    resources, _ = declare(subscriptions=tuple(reversed(SUBSCRIPTIONS)))
    names = {r.inputs["endpoint"]: r.name for r in resources if r.type.endswith("TopicSubscription")}
    assert (
        names["ops@example.com"] == f"deploy-notifier-email-{subscription_resource_suffix('ops@example.com')}"
    )
    assert subscription_resource_suffix("Ops@example.com") == subscription_resource_suffix("ops@example.com")
    assert subscription_resource_suffix("a.b@example.com") != subscription_resource_suffix("a-b@example.com")


def test_function_role_is_scoped_to_exact_arns(declared: tuple[list[Declared], dict[str, Any]]) -> None:
    resources, outputs = declared
    policy = json.loads(only(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/booking-prod-deploy-notifier"
    grants = {(s["Effect"], json.dumps(s["Action"]), json.dumps(s["Resource"])) for s in policy["Statement"]}
    assert grants == {
        ("Allow", '["sns:Publish"]', json.dumps([outputs["topic_arn"]])),
        ("Allow", '["ecs:DescribeServices"]', json.dumps([SERVICE_ARN])),
        # Service Authorization Reference: the service, plus the deployment/revision resource types.
        ("Allow", '["ecs:ListServiceDeployments"]', json.dumps([SERVICE_ARN])),
        (
            "Allow",
            '["ecs:DescribeServiceDeployments"]',
            json.dumps(
                [SERVICE_ARN, f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{CLUSTER}/{SERVICE}/*"]
            ),
        ),
        (
            "Allow",
            '["ecs:DescribeServiceRevisions"]',
            json.dumps(
                [SERVICE_ARN, f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/{CLUSTER}/{SERVICE}/*"]
            ),
        ),
        # No resource-level permissions exist for DescribeTaskDefinition.
        ("Allow", '["ecs:DescribeTaskDefinition"]', '["*"]'),
        ("Allow", '["logs:CreateLogStream", "logs:PutLogEvents"]', json.dumps([f"{log_group_arn}:*"])),
        ("Allow", '["sqs:SendMessage"]', json.dumps([outputs["dead_letter_queue_arn"]])),
    }
    trust = json.loads(only(resources, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]


def test_function_runtime_code_environment_and_logs(declared: tuple[list[Declared], dict[str, Any]]) -> None:
    resources, outputs = declared
    function = only(resources, "aws:lambda/function:Function").inputs
    assert function["runtime"] == "python3.14"
    assert function["architectures"] == ["arm64"]
    assert function["handler"] == "handler.handler"
    assert function["environment"]["variables"] == {
        "TOPIC_ARN": outputs["topic_arn"],
        "ENVIRONMENT": "prod",
        "SERVICE_ARN": SERVICE_ARN,
        "CLUSTER_NAME": CLUSTER,
        "APP_NAME": "booking",
    }
    log_group = only(resources, "aws:cloudwatch/logGroup:LogGroup").inputs
    assert log_group == {"name": "/aws/lambda/booking-prod-deploy-notifier", "retentionInDays": 90}
    assert function["loggingConfig"]["logGroup"] == "/aws/lambda/booking-prod-deploy-notifier"
    assert function["loggingConfig"]["logFormat"] == "JSON"


def test_lambda_archive_ships_the_handler_sources_and_the_shared_decision(tmp_path: Path) -> None:
    archive = lambda_archive(LAMBDA_SOURCE_DIR)
    assert set(archive.assets) == {
        "handler.py",
        "events.py",
        "enrichment.py",
        "notification.py",
        "record_email.py",
        "release_email.py",
        "deployment_record.py",
    }
    shared_asset = archive.assets["deployment_record.py"]
    assert isinstance(shared_asset, pulumi.FileAsset)
    shared = Path(shared_asset.path)
    assert shared == Path(__file__).resolve().parents[2] / "components" / "deployment_record.py"
    with pytest.raises(FileNotFoundError, match=r"handler\.py is missing"):
        lambda_archive(tmp_path)
    (tmp_path / "handler.py").write_text("")
    (tmp_path / "deployment_record.py").write_text("")  # a stale copy would shadow the shared module
    with pytest.raises(ValueError, match="both in"):
        lambda_archive(tmp_path)


def test_deployment_record_statements_need_a_new_format_service_arn() -> None:
    with pytest.raises(ValueError, match="new-format"):
        deployment_record_statements(f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{SERVICE}")


def test_failed_invocations_and_undeliverable_events_land_in_the_dead_letter_queue(
    declared: tuple[list[Declared], dict[str, Any]],
) -> None:
    resources, outputs = declared
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/booking-prod-deploy-notifier"
    dlq_arn = outputs["dead_letter_queue_arn"]

    invoke_config = only(resources, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs
    assert invoke_config["functionName"] == outputs["function_name"]
    assert invoke_config["destinationConfig"] == {"onFailure": {"destination": dlq_arn}}
    assert invoke_config["maximumRetryAttempts"] == 2

    target = only(resources, "aws:cloudwatch/eventTarget:EventTarget").inputs
    assert target["rule"] == outputs["rule_name"]
    assert target["arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:booking-prod-deploy-notifier"
    assert target["deadLetterConfig"] == {"arn": dlq_arn}
    assert target["retryPolicy"]["maximumRetryAttempts"] > 0

    permission = only(resources, "aws:lambda/permission:Permission").inputs
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["sourceArn"] == rule_arn
    assert permission["action"] == "lambda:InvokeFunction"

    queue_policy = json.loads(only(resources, "aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    [allow] = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Resource"] == dlq_arn
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}


def test_rule_pattern_is_the_one_tested_below(declared: tuple[list[Declared], dict[str, Any]]) -> None:
    resources, _ = declared
    rule = only(resources, "aws:cloudwatch/eventRule:EventRule").inputs
    assert json.loads(rule["eventPattern"]) == event_pattern(SERVICE_ARN)


# --- the pattern under EventBridge matching (moto routes PutEvents through rules to targets) -----------


@pytest.fixture
def event_bus() -> Iterator[Any]:
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="matched")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="deploy-notifier", EventPattern=json.dumps(event_pattern(SERVICE_ARN)))
        events.put_targets(Rule="deploy-notifier", Targets=[{"Id": "inbox", "Arn": queue_arn}])

        def deliver(event: dict[str, Any]) -> bool:
            sent = events.put_events(
                Entries=[
                    {
                        "Source": event["source"],
                        "DetailType": event["detail-type"],
                        "Detail": json.dumps(event["detail"]),
                        "Resources": event["resources"],
                    }
                ]
            )
            assert sent["FailedEntryCount"] == 0
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            for m in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            assert len(messages) <= 1
            if messages:
                assert json.loads(messages[0]["Body"])["detail"] == event["detail"]
            return bool(messages)

        yield deliver


MATCHED = [
    pytest.param(deployment_event(name, cluster=CLUSTER, service=SERVICE), id=name)
    for name in (
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "SERVICE_DEPLOYMENT_COMPLETED",
        "SERVICE_DEPLOYMENT_FAILED",
    )
] + [
    pytest.param(
        service_action_event("SERVICE_TASK_START_IMPAIRED", "WARN", cluster=CLUSTER, service=SERVICE),
        id="task-start-impaired",
    ),
    pytest.param(
        service_action_event(
            "SERVICE_TASK_PLACEMENT_FAILURE",
            "ERROR",
            cluster=CLUSTER,
            service=SERVICE,
            reason="RESOURCE:FARGATE",
            capacity_provider="FARGATE_SPOT",
        ),
        id="task-placement-failure",
    ),
]
NOT_MATCHED = [
    pytest.param(
        deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster="booking-dev", service=SERVICE),
        id="other-cluster",
    ),
    pytest.param(
        deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service="worker"), id="other-service"
    ),
    pytest.param(
        deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster=CLUSTER, service=SERVICE, region="eu-west-1"),
        id="other-region-arn",
    ),
    pytest.param(
        service_action_event("SERVICE_STEADY_STATE", "INFO", cluster=CLUSTER, service=SERVICE),
        id="info-service-action",
    ),
    pytest.param(
        service_action_event("SERVICE_TASK_START_IMPAIRED", "WARN", cluster="booking-dev", service=SERVICE),
        id="other-cluster-service-action",
    ),
    pytest.param(task_state_change_event(cluster=CLUSTER), id="task-state-change"),
]


@pytest.mark.parametrize("event", MATCHED)
def test_pattern_matches_this_services_documented_events(event_bus: Any, event: dict[str, Any]) -> None:
    assert event_bus(event) is True


@pytest.mark.parametrize("event", NOT_MATCHED)
def test_pattern_ignores_other_clusters_services_and_noise(event_bus: Any, event: dict[str, Any]) -> None:
    assert event_bus(event) is False


# --- wired into the real stack program (dev and prod configs) -------------------------------------------


def notifier_children(run: OfflineRun, type_: str) -> list[DeclaredResource]:
    """The DeployNotifier's own resources (the stack has other topics, e.g. Monitoring's alarms topic)."""
    return [r for r in run.children(run.one("booking:components:DeployNotifier")) if r.type == type_]


def notifier_child(run: OfflineRun, type_: str) -> DeclaredResource:
    [resource] = notifier_children(run, type_)
    return resource


@pytest.fixture(params=["dev", "prod"])
def stack_run(request: pytest.FixtureRequest) -> OfflineRun:
    run: OfflineRun = request.getfixturevalue(request.param)  # session runs from tests/infra/conftest.py
    return run


def test_stack_exports_the_topic_and_wires_the_notifier_to_its_own_service(stack_run: OfflineRun) -> None:
    run, env = stack_run, stack_run.stack
    topic = notifier_child(run, "aws:sns/topic:Topic")
    assert run.outputs["notificationTopicArn"] == topic.outputs["arn"]
    notifier = run.one("booking:components:DeployNotifier")
    assert {r.type for r in run.children(notifier)} >= {
        "aws:sns/topic:Topic",
        "aws:lambda/function:Function",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:sqs/queue:Queue",
    }

    ecs_service = run.one("aws:ecs/service:Service")
    cluster = run.one("aws:ecs/cluster:Cluster")
    this_service = (
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster.inputs['name']}/{ecs_service.inputs['name']}"
    )
    assert cluster.inputs["name"] == f"booking-{env}"
    pattern = json.loads(notifier_child(run, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"])
    assert pattern == event_pattern(this_service)

    notifier_policies = [
        json.loads(r.inputs["policy"])
        for r in run.children(notifier)
        if r.type == "aws:iam/rolePolicy:RolePolicy"
    ]
    assert len(notifier_policies) == 1
    policy = notifier_policies[0]
    resources = {json.dumps(s["Action"]): s["Resource"] for s in policy["Statement"]}
    assert resources['["ecs:DescribeServices"]'] == [this_service]
    assert resources['["sns:Publish"]'] == [topic.outputs["arn"]]

    function = notifier_child(run, "aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"]["ENVIRONMENT"] == env
    assert function.inputs["environment"]["variables"]["SERVICE_ARN"] == this_service
    # Created through the stack's explicit provider, so the default tags (Environment, Project) apply.
    assert function.provider is not None
    assert function.provider.startswith(
        f"urn:pulumi:{env}::booking::pulumi:pulumi:Stack$pulumi:providers:aws::aws::"
    )


def test_stack_subscribes_the_configured_addresses(stack_run: OfflineRun) -> None:
    config = stack_config(stack_run.stack)["booking:notifications"]
    expected = parse_notifications(config).subscriptions
    subs = {
        r.inputs["endpoint"]: r.inputs
        for r in notifier_children(stack_run, "aws:sns/topicSubscription:TopicSubscription")
    }
    assert set(subs) == {s.address for s in expected}
    for s in expected:
        assert ("filterPolicy" in subs[s.address]) == (s.events == "failures")
    if stack_run.stack == "prod":
        assert any(s.events == "failures" for s in expected)  # prod on-call only hears about failures


def test_invalid_notifications_config_stops_before_any_resource() -> None:
    run = run_stack("dev", {"booking:notifications.emails": ["ops@example.com", "not-an-address"]})
    assert run.error is not None
    assert run.error.startswith(
        "booking:notifications.emails[1] = 'not-an-address' is invalid: must be an e-mail"
    )
    assert [r for r in run.resources if r.custom] == []


def test_prod_refuses_to_run_without_anyone_to_notify() -> None:
    run = run_stack("prod", {"booking:notifications": None})
    assert run.error == (
        "booking:notifications.emails = [] is invalid: "
        "must list at least one address for the prod stack (deployment e-mails)"
    )
    assert [r for r in run.resources if r.custom] == []


def test_a_stack_without_the_section_still_gets_a_notifier_with_no_subscribers() -> None:
    # Alarm e-mails default to the notification addresses, so they must then be named on their own.
    run = run_stack("dev", {"booking:notifications": None, "booking:alarms.emails": ["alarms@example.com"]})
    assert run.error is None, run.error
    assert notifier_children(run, "aws:sns/topicSubscription:TopicSubscription") == []
    assert run.outputs["notificationTopicArn"] == notifier_child(run, "aws:sns/topic:Topic").outputs["arn"]
