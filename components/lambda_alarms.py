"""The alarms of the Lambda runtime and of the API Gateway HTTP API front door (pure data).

With `booking:service.runtime: lambda` the API is one function invoked through its alias (`live`);
these alarms replace the ECS task alarms (CPU, memory, registered-target health). With
`booking:lambda.frontDoor: httpApi` there is no load balancer either, and the two HTTP API alarms
replace the ALB's 5xx and latency alarms. `components/alarm_catalogue.py` assembles them with the rest.

AWS behaviour relied on (Lambda Developer Guide "Types of metrics for Lambda functions", "Monitoring
concurrency" and "Viewing metrics for Lambda functions"; API Gateway Developer Guide "Monitor
CloudWatch metrics for HTTP APIs in API Gateway"):
- AWS/Lambda dimension `FunctionName` aggregates every version and alias of a function; `FunctionName`
  plus `Resource` = "<function>:<alias>" is one alias, i.e. the traffic the front door sends.
- `Invocations` counts successful and failed invocations, not throttled ones; `Errors` counts the
  invocations that ended in a function error (exception, timeout, out of memory): error rate =
  Errors / Invocations. A 5xx the app answers itself is a successful invocation (the front-door 5xx
  alarms see those). Lambda publishes these only when non-zero, hence FILL and notBreaching.
- `Duration` is in milliseconds and never exceeds the configured timeout.
- `ConcurrentExecutions` (view with Maximum) is emitted for functions, versions and aliases;
  reserved concurrency is a ceiling for the whole function, so it is compared at function level.
- HTTP APIs publish `5xx`, `4xx`, `Count` (all requests), `Latency` and `IntegrationLatency` (ms) under
  AWS/ApiGateway with the dimensions `ApiId` and `ApiId, Stage` (not the REST API names 5XXError/4XXError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi

from components.alarms import (
    API_GATEWAY,
    LAMBDA,
    AlarmDefinition,
    AlarmRule,
    AlarmSettings,
    MetricStat,
    concurrency_threshold,
    duration_threshold_ms,
    error_rate_queries,
)


def alias_resource(function_name: pulumi.Input[str], alias_name: pulumi.Input[str]) -> pulumi.Input[str]:
    """The `Resource` dimension value of one alias: "<function name>:<alias name>"."""
    if isinstance(function_name, str) and isinstance(alias_name, str):
        return f"{function_name}:{alias_name}"
    return pulumi.Output.concat(function_name, ":", alias_name)


def lambda_alarm_definitions(
    names: Mapping[str, str],
    settings: AlarmSettings,
    *,
    function_name: pulumi.Input[str],
    alias_name: pulumi.Input[str],
    timeout_seconds: int,
    reserved_concurrency: int,
    runbook: Callable[[str, str], str],
) -> tuple[AlarmDefinition, ...]:
    """The API function's alarms: error rate, throttles, duration p99 and concurrency."""
    s = settings
    alias = {"FunctionName": function_name, "Resource": alias_resource(function_name, alias_name)}
    function = {"FunctionName": function_name}
    error_period = s.function_error_rate.period_seconds
    duration_ms = duration_threshold_ms(timeout_seconds, s.function_duration_p99.threshold)
    concurrency = concurrency_threshold(reserved_concurrency, s.function_concurrency.threshold)

    def single(
        key: str,
        rule: AlarmRule,
        meaning: str,
        *,
        comparison_operator: str,
        threshold: float,
        metric_name: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        statistic: str | None = None,
        extended_statistic: str | None = None,
        evaluate_low_sample_count_percentiles: str | None = None,
    ) -> AlarmDefinition:
        return AlarmDefinition(
            key=key,
            name=names[key],
            description=runbook(key, meaning),
            comparison_operator=comparison_operator,
            threshold=threshold,
            rule=rule,
            # Lambda publishes only for invocations: no traffic is no evidence of a problem.
            treat_missing_data="notBreaching",
            namespace=LAMBDA,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            extended_statistic=extended_statistic,
            evaluate_low_sample_count_percentiles=evaluate_low_sample_count_percentiles,
        )

    return (
        AlarmDefinition(
            key="functionErrorRate",
            name=names["functionErrorRate"],
            description=runbook(
                "functionErrorRate",
                f"More than {s.function_error_rate.threshold:g}% of the API function's invocations failed "
                "(unhandled exception, timeout, out of memory, failed init): the front door answered 5xx.",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.function_error_rate.threshold,
            rule=s.function_error_rate,
            treat_missing_data="notBreaching",
            queries=error_rate_queries(
                MetricStat(LAMBDA, "Errors", alias, "Sum", error_period),
                MetricStat(LAMBDA, "Invocations", alias, "Sum", error_period),
                s.function_error_rate.minimum_requests,
                # Errors are a subset of Invocations (a failed invocation is still an invocation).
                errors_outside_requests=False,
                labels=("Function errors", "Invocations", "Error rate (%)"),
            ),
        ),
        single(
            "functionThrottles",
            s.function_throttles,
            f"More than {s.function_throttles.threshold:g} request(s) per period were throttled: the "
            "function is at its reserved concurrency and those callers got an error from the front door.",
            comparison_operator="GreaterThanThreshold",
            threshold=s.function_throttles.threshold,
            metric_name="Throttles",
            dimensions=alias,
            statistic="Sum",
        ),
        single(
            "functionDurationP99",
            s.function_duration_p99,
            f"The slowest 1% of invocations took longer than {duration_ms:g} ms "
            f"({s.function_duration_p99.threshold:g}% of the {timeout_seconds} s timeout).",
            comparison_operator="GreaterThanThreshold",
            threshold=duration_ms,
            metric_name="Duration",
            dimensions=alias,
            extended_statistic="p99",
            # As for the ALB latency: a p99 over a handful of invocations is just the slowest one.
            evaluate_low_sample_count_percentiles="ignore",
        ),
        single(
            "functionConcurrency",
            s.function_concurrency,
            f"At least {concurrency:g} concurrent executions ({s.function_concurrency.threshold:g}% of the "
            f"reserved concurrency {reserved_concurrency}, which also bounds the database connections).",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=concurrency,
            metric_name="ConcurrentExecutions",
            # Reserved concurrency caps all versions and aliases together: compare the function total.
            dimensions=function,
            statistic="Maximum",
        ),
    )


def http_api_alarm_definitions(
    names: Mapping[str, str],
    settings: AlarmSettings,
    *,
    api_id: pulumi.Input[str],
    stage: pulumi.Input[str],
    runbook: Callable[[str, str], str],
) -> tuple[AlarmDefinition, ...]:
    """The HTTP API stage's alarms: 5xx rate and latency p99 (the ALB target alarms' counterparts)."""
    s = settings
    dims = {"ApiId": api_id, "Stage": stage}
    period = s.api_5xx_rate.period_seconds
    return (
        AlarmDefinition(
            key="api5xxRate",
            name=names["api5xxRate"],
            description=runbook(
                "api5xxRate",
                f"More than {s.api_5xx_rate.threshold:g}% of requests to the HTTP API got a 5xx (from the "
                "API or from API Gateway: function error, throttle or integration timeout).",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.api_5xx_rate.threshold,
            rule=s.api_5xx_rate,
            treat_missing_data="notBreaching",  # no traffic, no data: not an error rate
            queries=error_rate_queries(
                MetricStat(API_GATEWAY, "5xx", dims, "Sum", period),
                # Count is every API request, the 5xx ones included.
                MetricStat(API_GATEWAY, "Count", dims, "Sum", period),
                s.api_5xx_rate.minimum_requests,
                errors_outside_requests=False,
            ),
        ),
        AlarmDefinition(
            key="apiLatencyP99",
            name=names["apiLatencyP99"],
            description=runbook(
                "apiLatencyP99",
                f"The slowest 1% of HTTP API responses took longer than {s.api_latency_p99.threshold:g} ms.",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=s.api_latency_p99.threshold,  # Latency is in milliseconds, as the setting
            rule=s.api_latency_p99,
            treat_missing_data="notBreaching",
            namespace=API_GATEWAY,
            metric_name="Latency",
            dimensions=dims,
            extended_statistic="p99",
            evaluate_low_sample_count_percentiles="ignore",
        ),
    )
