"""What the monitoring tests watch: one environment's CloudWatch dimension values."""

from __future__ import annotations

from components.alarms import Watched

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PREFIX = "booking-test"
LB = "app/booking-test-alb/50dc6c495c0c9188"
TG = "targetgroup/booking-test-api/73e2d6bc24d8a067"
WATCHED = Watched(
    load_balancer=LB,
    target_group=TG,
    cluster_name="booking-test-cluster",
    service_name="booking-test-api",
    db_instance_identifier="booking-test-db",
    notifier_function_name="booking-test-deploy-notifier",
    dead_letter_queue_name="booking-test-deploy-notifier-dlq",
)
APP_LOG_GROUP = "/ecs/booking-test/api"
METRICS_NAMESPACE = "Booking/test"  # the API's EMF namespace (app.core.metric_catalogue.metrics_namespace)
WATCHED_VALUES = {
    LB,
    TG,
    "booking-test-cluster",
    "booking-test-api",
    "booking-test-db",
    "booking-test-deploy-notifier",
    "booking-test-deploy-notifier-dlq",
}

# The same environment on the Lambda runtime (booking:service.runtime: lambda), behind the ALB and
# behind an HTTP API (booking:lambda.frontDoor: httpApi).
FUNCTION = "booking-test-api"
ALIAS = "live"
API_ID = "a1b2c3d4e5"
STAGE = "$default"
TIMEOUT_SECONDS = 30
RESERVED_CONCURRENCY = 10
_SHARED = {
    "db_instance_identifier": "booking-test-db",
    "notifier_function_name": "booking-test-deploy-notifier",
    "dead_letter_queue_name": "booking-test-deploy-notifier-dlq",
}
LAMBDA_ALB = Watched(load_balancer=LB, target_group=TG, function_name=FUNCTION, alias_name=ALIAS, **_SHARED)
LAMBDA_HTTP_API = Watched(function_name=FUNCTION, alias_name=ALIAS, api_id=API_ID, stage=STAGE, **_SHARED)
