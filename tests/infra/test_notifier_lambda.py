"""DeployNotifier for the Lambda runtime under Pulumi mocks, and its release rule under moto's EventBridge
matcher: the release gate's events of this environment's function reach the notifier, nothing else does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pulumi
import pytest
from moto import mock_aws

from components.notifier import DeployNotifier, DeployNotifierArgs
from components.notifier_policies import release_event_pattern
from components.types import EmailSubscription
from stacks.mocks import AwsMocks, Declared
from stacks.offline import run_stack
from tests.ecs_sample_events import ACCOUNT, REGION, deployment_event, service_arn
from tests.release_sample_events import FUNCTION, release_event

RULE = "booking-dev-release-notifier"


def declare(**overrides: Any) -> tuple[list[Declared], dict[str, Any]]:
    recorder = AwsMocks(REGION)
    pulumi.runtime.set_mocks(recorder, project="booking", stack="dev", preview=False)
    outputs: dict[str, Any] = {}
    args = DeployNotifierArgs(
        **{
            "name_prefix": "booking-dev",
            "environment": "dev",
            "runtime": "lambda",
            "function_name": FUNCTION,
            "subscriptions": (EmailSubscription("ops@example.com", "all"),),
            **overrides,
        }
    )

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        notifier = DeployNotifier("deploy-notifier", args)
        names = ["topic_arn", "function_name", "dead_letter_queue_arn", "rule_name"]
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


def test_one_rule_for_the_release_events_and_none_for_ecs(
    declared: tuple[list[Declared], dict[str, Any]],
) -> None:
    resources, outputs = declared
    rule = only(resources, "aws:cloudwatch/eventRule:EventRule")
    assert rule.name == "deploy-notifier-release-rule"
    assert rule.inputs["name"] == outputs["rule_name"] == RULE
    # The pattern, literally: the gate's source and detail-type, this environment, this function.
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["booking.release"],
        "detail-type": ["Lambda Release State Change"],
        "detail": {
            "eventName": ["STARTED", "COMPLETED", "FAILED"],
            "environment": ["dev"],
            "functionName": [FUNCTION],
        },
    }
    assert "aws.ecs" not in rule.inputs["eventPattern"]


def test_the_rule_feeds_the_same_function_and_dead_letter_queue(
    declared: tuple[list[Declared], dict[str, Any]],
) -> None:
    resources, outputs = declared
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
    target = only(resources, "aws:cloudwatch/eventTarget:EventTarget").inputs
    assert target["rule"] == RULE
    assert target["arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:booking-dev-deploy-notifier"
    assert target["deadLetterConfig"] == {"arn": outputs["dead_letter_queue_arn"]}
    assert only(resources, "aws:lambda/permission:Permission").inputs["sourceArn"] == rule_arn
    queue_policy = json.loads(only(resources, "aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    [allow] = [s for s in queue_policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}


def test_the_function_reads_nothing_and_knows_its_function(
    declared: tuple[list[Declared], dict[str, Any]],
) -> None:
    resources, outputs = declared
    policy = json.loads(only(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    actions = sorted(a for s in policy["Statement"] for a in s["Action"])
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "sns:Publish", "sqs:SendMessage"]
    function = only(resources, "aws:lambda/function:Function").inputs
    assert function["environment"]["variables"] == {
        "TOPIC_ARN": outputs["topic_arn"],
        "ENVIRONMENT": "dev",
        "FUNCTION_NAME": FUNCTION,
        "APP_NAME": "booking",
    }
    assert function["description"] == "E-mails dev Lambda release events to the admins (SNS)"


def test_function_name_may_be_an_output_of_the_function_resource() -> None:
    resources, _ = declare(function_name=pulumi.Output.from_input(FUNCTION))
    rule = only(resources, "aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"])["detail"]["functionName"] == [FUNCTION]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"function_name": None}, "runtime lambda needs function_name"),
        ({"service_arn": service_arn("booking-dev", "api")}, "takes no cluster_name/service_arn"),
        ({"cluster_name": "booking-dev"}, "takes no cluster_name/service_arn"),
        ({"runtime": "fargate"}, "runtime fargate needs service_arn and takes no function_name"),
    ],
)
def test_args_name_the_inputs_each_runtime_needs(overrides: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "name_prefix": "booking-dev",
        "environment": "dev",
        "subscriptions": (),
        "runtime": "lambda",
        "function_name": FUNCTION,
    }
    with pytest.raises(ValueError, match=message):
        DeployNotifierArgs(**{**base, **overrides})


# --- the declared pattern under EventBridge matching (moto routes PutEvents through rules to targets) ---


@pytest.fixture
def release_bus(declared: tuple[list[Declared], dict[str, Any]]) -> Iterator[Any]:
    resources, _ = declared
    pattern = only(resources, "aws:cloudwatch/eventRule:EventRule").inputs["eventPattern"]
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="matched")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name=RULE, EventPattern=pattern)
        events.put_targets(Rule=RULE, Targets=[{"Id": "notifier", "Arn": queue_arn}])

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
            return bool(messages)

        yield deliver


@pytest.mark.parametrize("name", ["STARTED", "COMPLETED", "FAILED"])
def test_this_functions_release_events_match(release_bus: Any, name: str) -> None:
    assert release_bus(release_event(name)) is True


def _without_environment() -> dict[str, Any]:
    event = release_event("FAILED")
    del event["detail"]["environment"]
    return event


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(release_event("FAILED", environment="prod"), id="other-environment"),
        pytest.param(release_event("FAILED", functionName="booking-prod-api"), id="other-function"),
        pytest.param(_without_environment(), id="no-environment"),
        pytest.param(release_event("ROLLED_BACK"), id="unknown-event-name"),
        pytest.param({**release_event("FAILED"), "source": "booking.deploy"}, id="other-source"),
        pytest.param(
            {**release_event("FAILED"), "detail-type": "Lambda Function Updated"}, id="other-detail-type"
        ),
        pytest.param(
            deployment_event("SERVICE_DEPLOYMENT_FAILED", cluster="booking-dev", service="api"),
            id="ecs-event",
        ),
    ],
)
def test_other_environments_functions_and_sources_do_not_match(
    release_bus: Any, event: dict[str, Any]
) -> None:
    assert release_bus(event) is False


# --- wired into the real stack program (dev on the Lambda runtime) ---------------------------------------


def test_the_lambda_stack_wires_the_notifier_to_its_own_functions_releases() -> None:
    run = run_stack("dev", {"booking:service.runtime": "lambda", "booking:lambda": {}})
    assert run.error is None, run.error
    notifier = run.one("booking:components:DeployNotifier")
    children = run.children(notifier)
    api = run.named("booking-dev-function")
    [rule] = [r for r in children if r.type == "aws:cloudwatch/eventRule:EventRule"]
    assert rule.inputs["name"] == RULE
    assert json.loads(rule.inputs["eventPattern"]) == release_event_pattern(
        environment="dev", function_name=api.inputs["name"]
    )
    assert not run.of_type("aws:ecs/service:Service")
    [function] = [r for r in children if r.type == "aws:lambda/function:Function"]
    variables = function.inputs["environment"]["variables"]
    assert variables["FUNCTION_NAME"] == api.inputs["name"] == FUNCTION
    assert "SERVICE_ARN" not in variables and "CLUSTER_NAME" not in variables
    [policy] = [json.loads(r.inputs["policy"]) for r in children if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert not [a for s in policy["Statement"] for a in s["Action"] if a.startswith("ecs:")]
