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
