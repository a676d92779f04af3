"""The alarm catalogue (pure data): every CloudWatch alarm of an environment, its metric and its meaning.

`alarm_definitions` turns `AlarmSettings` and the watched resources into `AlarmDefinition`s; the
Monitoring component declares one MetricAlarm per definition. Each description ends with where its
runbook is. Which alarms exist depends on the runtime and the front door (`components.alarms.alarm_keys`);
the Lambda and HTTP API ones are in `components/lambda_alarms.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.alarms import (
    ALARM_SUFFIXES,
    ALB,
    ECS,
    LAMBDA,
    MIB,
    RDS,
    SQS,
    AlarmDefinition,
    AlarmRule,
    AlarmSettings,
    MetricStat,
    Watched,
    alarm_names,
    error_rate_queries,
    lcu_rate_queries,
)
from components.business_metrics import business_alarm_definitions
from components.lambda_alarms import http_api_alarm_definitions, lambda_alarm_definitions


def _runbook(key: str, meaning: str) -> str:
    return f"{meaning} Runbook: README.md, Monitoring, alarm '{key}'."


def alarm_definitions(
    prefix: str,
    settings: AlarmSettings,
    watched: Watched,
    *,
    min_healthy_hosts: int,
    free_storage_threshold: pulumi.Input[float],
    metrics_namespace: str,
    function_timeout_seconds: int | None = None,
    function_reserved_concurrency: int | None = None,
) -> tuple[AlarmDefinition, ...]:
    """Every alarm of the environment, as data (the component turns each into a MetricAlarm).

    The runtime and front door come from `watched`; with the Lambda runtime the timeout and reserved
    concurrency scale the duration and concurrency thresholds. Ordered as `ALARM_SUFFIXES`.
    """
    names = alarm_names(prefix, settings, runtime=watched.runtime, front_door=watched.front_door)
    s = settings
    definitions = [
        *_shared(names, s, watched, free_storage_threshold),
        *business_alarm_definitions(
            names,
            metrics_namespace,
            no_bookings=s.no_bookings,
            hours=s.business_hours,
            conflict_ratio=s.conflict_ratio,
            runbook=_runbook,
        ),
    ]
    if watched.front_door == "alb":
        lb = _given(watched.load_balancer, "load_balancer")
        tg = {"LoadBalancer": lb, "TargetGroup": _given(watched.target_group, "target_group")}
        definitions += _alb(names, s, lb, tg)
    if watched.runtime == "fargate":
        service = {
            "ClusterName": _given(watched.cluster_name, "cluster_name"),
            "ServiceName": _given(watched.service_name, "service_name"),
        }
        definitions += _ecs(names, s, tg, service, min_healthy_hosts)
    else:
        if function_timeout_seconds is None or function_reserved_concurrency is None:
            raise ValueError(
                "the lambda runtime's alarms need the function's timeout and reserved concurrency"
            )
        definitions += lambda_alarm_definitions(
            names,
            s,
            function_name=_given(watched.function_name, "function_name"),
            alias_name=_given(watched.alias_name, "alias_name"),
            timeout_seconds=function_timeout_seconds,
            reserved_concurrency=function_reserved_concurrency,
            runbook=_runbook,
        )
        if watched.front_door == "httpApi":
            definitions += http_api_alarm_definitions(
                names,
                s,
                api_id=_given(watched.api_id, "api_id"),
                stage=_given(watched.stage, "stage"),
                runbook=_runbook,
            )
    order = list(ALARM_SUFFIXES)
    return tuple(sorted(definitions, key=lambda d: order.index(d.key)))


def _given(value: pulumi.Input[str] | None, field: str) -> pulumi.Input[str]:
    if value is None:  # Watched.__post_init__ already refuses this; kept for the type checker
        raise ValueError(f"Watched.{field} is required for this runtime and front door")
    return value


def _single(
    names: Mapping[str, str],
    key: str,
    rule: AlarmRule,
    meaning: str,
    *,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    statistic: str,
    comparison: str = "GreaterThanThreshold",
    threshold: pulumi.Input[float] | None = None,
    missing: str,
) -> AlarmDefinition:
    return AlarmDefinition(
        key=key,
        name=names[key],
        description=_runbook(key, meaning),
        comparison_operator=comparison,
        threshold=rule.threshold if threshold is None else threshold,
        rule=rule,
        treat_missing_data=missing,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
    )


def _alb(
    names: Mapping[str, str],
    s: AlarmSettings,
    lb_suffix: pulumi.Input[str],
    tg: Mapping[str, pulumi.Input[str]],
) -> list[AlarmDefinition]:
    """The load balancer's alarms: its own and its target's 5xx, target latency, capacity (LCUs)."""
    lb = {"LoadBalancer": lb_suffix}
    elb_period = s.elb_5xx_rate.period_seconds
    target_period = s.target_5xx_rate.period_seconds
    return [
        AlarmDefinition(
            key="elb5xxRate",
            name=names["elb5xxRate"],
            description=_runbook(
                "elb5xxRate",
                f"More than {s.elb_5xx_rate.threshold:g}% of requests got a 5xx generated by the load "
                "balancer itself (502/503/504: no healthy target, target reset or timed out).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.elb_5xx_rate.threshold,
            rule=s.elb_5xx_rate,
            # No traffic means no data at all: that is not an error rate.
            treat_missing_data="notBreaching",
            queries=error_rate_queries(
                MetricStat(ALB, "HTTPCode_ELB_5XX_Count", lb, "Sum", elb_period),
                MetricStat(ALB, "RequestCount", lb, "Sum", elb_period),
                s.elb_5xx_rate.minimum_requests,
                errors_outside_requests=True,
            ),
        ),
        AlarmDefinition(
            key="target5xxRate",
            name=names["target5xxRate"],
            description=_runbook(
                "target5xxRate",
                f"More than {s.target_5xx_rate.threshold:g}% of requests got a 5xx from the API.",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.target_5xx_rate.threshold,
            rule=s.target_5xx_rate,
            treat_missing_data="notBreaching",  # no traffic, no data: not an error rate
            queries=error_rate_queries(
                MetricStat(ALB, "HTTPCode_Target_5XX_Count", tg, "Sum", target_period),
                MetricStat(ALB, "RequestCount", tg, "Sum", target_period),
                s.target_5xx_rate.minimum_requests,
                errors_outside_requests=False,
            ),
        ),
        AlarmDefinition(
            key="targetLatencyP99",
            name=names["targetLatencyP99"],
            description=_runbook(
                "targetLatencyP99",
                f"The slowest 1% of API responses took longer than {s.target_latency_p99.threshold:g} ms.",
            ),
            comparison_operator="GreaterThanThreshold",
            # TargetResponseTime is in seconds; the setting is in milliseconds.
            threshold=s.target_latency_p99.threshold / 1000,
            rule=s.target_latency_p99,
            treat_missing_data="notBreaching",  # no requests, no latency
            namespace=ALB,
            metric_name="TargetResponseTime",
            dimensions=tg,
            extended_statistic="p99",
            # A p99 over a handful of requests is just the slowest one: keep the state until there are
            # enough samples rather than paging on one slow request at night.
            evaluate_low_sample_count_percentiles="ignore",
        ),
        AlarmDefinition(
            key="consumedLcus",
            name=names["consumedLcus"],
            description=_runbook(
                "consumedLcus",
                f"The load balancer consumes more than {s.consumed_lcus.threshold:g} LCUs per hour "
                "(traffic growth or abuse; it drives the ALB bill).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.consumed_lcus.threshold,
            rule=s.consumed_lcus,
            treat_missing_data="notBreaching",  # always reported; a gap is not load
            queries=lcu_rate_queries(lb_suffix, s.consumed_lcus.period_seconds),
        ),
    ]


def _ecs(
    names: Mapping[str, str],
    s: AlarmSettings,
    tg: Mapping[str, pulumi.Input[str]],
    service: Mapping[str, pulumi.Input[str]],
    min_healthy_hosts: int,
) -> list[AlarmDefinition]:
    """The ECS service's alarms: registered-target health and task CPU/memory (runtime fargate)."""
    return [
        _single(
            names,
            "unhealthyHosts",
            s.unhealthy_hosts,
            f"More than {s.unhealthy_hosts.threshold:g} API task(s) fail the load balancer health check.",
            namespace=ALB,
            metric="UnHealthyHostCount",
            dimensions=tg,
            statistic="Maximum",
            # Missing means no target registered at all; the healthy-hosts alarm covers that case.
            missing="notBreaching",
        ),
        _single(
            names,
            "healthyHosts",
            s.healthy_hosts,
            f"Fewer than {min_healthy_hosts} healthy API task(s) behind the load balancer.",
            namespace=ALB,
            metric="HealthyHostCount",
            dimensions=tg,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=min_healthy_hosts,
            # No data is no evidence of a healthy target (target group detached, nothing registered).
            missing="breaching",
        ),
        _single(
            names,
            "serviceCpu",
            s.service_cpu,
            f"The API service's average CPU is above {s.service_cpu.threshold:g}% of what its tasks reserve.",
            namespace=ECS,
            metric="CPUUtilization",
            dimensions=service,
            statistic="Average",
            # No running task publishes nothing; the healthy-hosts alarm is the one for that.
            missing="notBreaching",
        ),
        _single(
            names,
            "serviceMemory",
            s.service_memory,
            f"The API service's average memory is above {s.service_memory.threshold:g}% of task memory.",
            namespace=ECS,
            metric="MemoryUtilization",
            dimensions=service,
            statistic="Average",
            missing="notBreaching",  # as for CPU
        ),
    ]


def _shared(
    names: Mapping[str, str],
    s: AlarmSettings,
    watched: Watched,
    free_storage_threshold: pulumi.Input[float],
) -> list[AlarmDefinition]:
    """The alarms every runtime has: the database, the deploy notifier and its dead-letter queue."""
    db = {"DBInstanceIdentifier": watched.db_instance_identifier}
    fn = {"FunctionName": watched.notifier_function_name}
    return [
        _single(
            names,
            "databaseCpu",
            s.database_cpu,
            f"The database instance's CPU is above {s.database_cpu.threshold:g}%.",
            namespace=RDS,
            metric="CPUUtilization",
            dimensions=db,
            statistic="Average",
            # RDS publishes every minute while available; gaps (reboot, maintenance) keep the last state
            # instead of flapping to OK.
            missing="missing",
        ),
        _single(
            names,
            "databaseFreeStorage",
            s.database_free_storage,
            f"Less than {s.database_free_storage.threshold:g}% of the allocated database storage is free.",
            namespace=RDS,
            metric="FreeStorageSpace",
            dimensions=db,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=free_storage_threshold,
            missing="missing",  # as for database CPU
        ),
        _single(
            names,
            "databaseFreeableMemory",
            s.database_freeable_memory,
            f"The database has less than {s.database_freeable_memory.threshold:g} MiB of freeable memory.",
            namespace=RDS,
            metric="FreeableMemory",
            dimensions=db,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=s.database_freeable_memory.threshold * MIB,  # the metric is in bytes
            missing="missing",
        ),
        _single(
            names,
            "databaseConnections",
            s.database_connections,
            f"More than {s.database_connections.threshold:g} connections are open on the database.",
            namespace=RDS,
            metric="DatabaseConnections",
            dimensions=db,
            statistic="Maximum",
            missing="missing",
        ),
        _single(
            names,
            "notifierErrors",
            s.notifier_errors,
            f"The deploy notifier Lambda failed more than {s.notifier_errors.threshold:g} time(s): "
            "deployment e-mails may be missing.",
            namespace=LAMBDA,
            metric="Errors",
            dimensions=fn,
            statistic="Sum",
            # Lambda publishes only when invoked: no deployment, no data, nothing wrong.
            missing="notBreaching",
        ),
        _single(
            names,
            "notifierDuration",
            s.notifier_duration,
            f"A deploy notifier invocation took longer than {s.notifier_duration.threshold:g} ms.",
            namespace=LAMBDA,
            metric="Duration",
            dimensions=fn,
            statistic="Maximum",
            missing="notBreaching",  # as for notifier errors
        ),
        _single(
            names,
            "deadLetterQueue",
            s.dead_letter_queue,
            "Deployment events the notifier could not process are waiting in its dead-letter queue.",
            namespace=SQS,
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": watched.dead_letter_queue_name},
            statistic="Maximum",
            # SQS stops publishing for a queue idle for 6 hours, even one still holding messages: missing
            # data must neither page (an empty idle queue) nor send a false OK (a forgotten message).
            missing="missing",
        ),
    ]
