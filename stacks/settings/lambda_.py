"""`booking:lambda`: the function that serves the API when `booking:service.runtime` is `lambda`.

The section is read only with that runtime (and refused with Fargate, where it would silently do
nothing). `check_lambda` then checks it against the rest of the stack: prod keeps the ALB, an HTTP API
cannot carry what only an ALB can (WAF, the HTTPS listener) nor wait longer than 30 s, and the
function's worst case of database connections must fit the instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.lambda_pool import LAMBDA_POOL_DEFAULTS
from components.types import FRONT_DOORS, FrontDoor
from stacks.settings import connections
from stacks.settings._base import NAMESPACE, ConfigError, Section

if TYPE_CHECKING:
    from stacks.settings.stack import StackSettings

KEY = f"{NAMESPACE}:lambda"
# Lambda quotas (Lambda Developer Guide, "Lambda quotas"): memory 128 MB to 10,240 MB in 1-MB steps,
# timeout up to 900 s (15 minutes), 1,000 concurrent executions per Region by default.
MEMORY_MB = (128, 10240)
TIMEOUT_SECONDS = (1, 900)
MAX_RESERVED_CONCURRENCY = 1000
# "Quotas for configuring and running an HTTP API in API Gateway": Maximum integration timeout 30
# seconds, cannot be increased.
HTTP_API_MAX_TIMEOUT_SECONDS = 30
# Connections one execution environment can hold (one request at a time: app.core.config).
POOL_SIZE = LAMBDA_POOL_DEFAULTS["DB_POOL_SIZE"] + LAMBDA_POOL_DEFAULTS["DB_MAX_OVERFLOW"]


@dataclass(frozen=True)
class LambdaSettings:
    memory_mb: int = 1024
    timeout_seconds: int = 30
    reserved_concurrency: int = 10
    """The most environments (so connections x POOL_SIZE) the function can run at once."""
    provisioned_concurrency: int = 0
    """Pre-initialised environments on the alias `live`; 0 = none (nothing billed while idle)."""
    front_door: FrontDoor = "alb"


def parse_lambda(raw: object, *, runtime: str) -> LambdaSettings | None:
    if runtime != "lambda":
        if raw is not None:
            raise ConfigError(
                KEY,
                raw,
                f"applies only with {NAMESPACE}:service.runtime: lambda (the runtime is {runtime}); "
                "remove the section or set the runtime",
            )
        return None
    s = Section(
        "lambda",
        raw,
        ["memoryMb", "timeoutSeconds", "reservedConcurrency", "provisionedConcurrency", "frontDoor"],
    )
    reserved = s.integer("reservedConcurrency", 10, minimum=1, maximum=MAX_RESERVED_CONCURRENCY)
    provisioned = s.integer("provisionedConcurrency", 0, minimum=0)
    # "You can't allocate more provisioned concurrency than reserved concurrency for a function", and
    # when provisioned concurrency adds up to the reserved concurrency nothing else can run (Lambda
    # Developer Guide, "Configuring provisioned concurrency"): the release gate invokes the *new*
    # version before the alias (and its provisioned concurrency) moves, so one slot must stay free.
    if provisioned >= reserved:
        raise s.error(
            "provisionedConcurrency",
            provisioned,
            f"must be less than reservedConcurrency ({reserved}): provisioned concurrency counts against "
            "the reserved concurrency, and the release gate needs a free slot to invoke the new version",
        )
    return LambdaSettings(
        memory_mb=s.integer("memoryMb", 1024, minimum=MEMORY_MB[0], maximum=MEMORY_MB[1]),
        timeout_seconds=s.integer(
            "timeoutSeconds", 30, minimum=TIMEOUT_SECONDS[0], maximum=TIMEOUT_SECONDS[1]
        ),
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        front_door=s.choice("frontDoor", FRONT_DOORS, "alb"),
    )


def check_lambda(settings: StackSettings) -> None:
    """Cross-section rules of the Lambda runtime; nothing to check with Fargate."""
    fn = settings.lambda_
    if fn is None:
        return
    if fn.front_door == "httpApi":
        _check_http_api(settings, fn)
    check_connections(fn.reserved_concurrency, settings.database.instance_class)


def _check_http_api(settings: StackSettings, fn: LambdaSettings) -> None:
    door = f"with {KEY}.frontDoor: httpApi"
    if settings.is_prod:
        raise ConfigError(
            f"{KEY}.frontDoor",
            fn.front_door,
            "must be alb for the prod stack "
            "(WAF, the HTTPS listener and deletion protection live on the ALB)",
        )
    if settings.waf is not None and settings.waf.enabled:
        raise ConfigError(
            f"{NAMESPACE}:waf.enabled",
            True,
            f"must be false {door}: WAF web ACLs attach to an ALB or a REST API, not to an HTTP API",
        )
    https = settings.https
    for field, value in (("domainName", https.domain_name), ("certificateArn", https.certificate_arn)):
        if value:
            raise ConfigError(
                f"{NAMESPACE}:https.{field}",
                value,
                f'must be "" {door}: the HTTP API serves HTTPS on its own execute-api endpoint; '
                "custom domains are not supported by this stack",
            )
    if fn.timeout_seconds > HTTP_API_MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            f"{KEY}.timeoutSeconds",
            fn.timeout_seconds,
            f"must be at most {HTTP_API_MAX_TIMEOUT_SECONDS} {door}: API Gateway stops waiting for an "
            "integration after 30 s (HTTP API quota, cannot be increased), so a longer run is never answered",
        )


def check_connections(reserved_concurrency: int, instance_class: str) -> None:
    """reservedConcurrency x POOL_SIZE + headroom must fit the instance's max_connections."""
    limit = connections.max_connections(instance_class)
    if limit is None:
        raise ConfigError(
            f"{NAMESPACE}:database.instanceClass",
            instance_class,
            f"the Lambda runtime checks {KEY}.reservedConcurrency against the class's max_connections, "
            f"and this class's memory is not known here (known: {connections.known_classes_text()}); "
            "use one of those or add it to stacks/settings/connections.py",
        )
    needed = reserved_concurrency * POOL_SIZE
    usable = connections.usable_connections(limit)
    if needed > usable:
        raise ConfigError(
            f"{KEY}.reservedConcurrency",
            reserved_concurrency,
            f"too high for {NAMESPACE}:database.instanceClass {instance_class}: {reserved_concurrency} "
            f"environments x {POOL_SIZE} connection = {needed}, but the instance allows about {limit} "
            f"(LEAST(DBInstanceClassMemory/9531392, 5000)) of which {connections.headroom(limit)} stay "
            f"free for reserved slots, operations and the memory RDS keeps back; at most "
            f"{usable // POOL_SIZE}, or a larger instance class",
        )
