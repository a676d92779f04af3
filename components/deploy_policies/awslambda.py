"""Lambda: the stack's functions (the API on the Lambda runtime and the deploy notifier), their versions,
alias, concurrency and invoke permissions, and the release gate's calls (named ARNs).

Every Lambda action the provider and the release gate make names the function, or a version or alias of
it (`function:<name>:<qualifier>`), so `function:<project>-<env>-*` covers both (Lambda service
authorization reference: resource types "function", "function alias", "function version").

- `AddPermission` only for the principals the stack hands its functions to (`lambda:Principal`): the
  ALB (target group), API Gateway (HTTP API) and EventBridge (the notifier's rule).
- `InvokeFunction`: only versions and aliases of the API's function (`<project>-<env>-api:*`): the
  release gate (components/lambda_release.py) runs the migration and the `/readyz` probe on the version
  it just published, with the deployer's credentials.
- `events:PutEvents` only with `Source: booking.release` (`events:source`, EventBridge User Guide,
  "Using IAM policy conditions in Amazon EventBridge") and its one detail type (`events:detail-type`)
  on the default bus: the gate's STARTED /
  COMPLETED / FAILED events, which the notifier turns into e-mails. No other source can be forged.
- A container-image function: Lambda reads the image with the caller's ECR permissions on the stack's
  own repository (ecr.py `EcrRepository`: BatchGetImage, GetDownloadUrlForLayer, Get/SetRepositoryPolicy;
  Lambda Developer Guide, "Create a Lambda function using a container image", Amazon ECR permissions).
- A function in a VPC: Lambda checks the subnets and groups with the caller's `ec2:DescribeSubnets`,
  `DescribeSecurityGroups`, `DescribeVpcs` (Lambda Developer Guide, "Giving Lambda functions access to
  resources in an Amazon VPC", user permissions), granted by ec2.py `Ec2Read`. The execution role is
  passed with `iam:PassRole` to `lambda.amazonaws.com` only (iam.py `PassStackRoles`).
"""

from __future__ import annotations

from components.deploy_policies._scope import StackScope, allow
from components.iam_policies import Statement
from components.lambda_release import EVENT_DETAIL_TYPE, EVENT_SOURCE

# Who may be granted the right to invoke a stack function (AddPermission's `Principal`).
INVOKE_PRINCIPALS: tuple[str, ...] = (
    "apigateway.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "events.amazonaws.com",
)

# The API's function (stacks/settings `Names.function`): the only one the deploy role may invoke.
API_FUNCTION_SUFFIX = "-api"

FUNCTION_ACTIONS = (
    "lambda:CreateAlias",
    "lambda:CreateFunction",
    "lambda:DeleteAlias",
    "lambda:DeleteFunction",
    "lambda:DeleteFunctionConcurrency",
    "lambda:DeleteFunctionEventInvokeConfig",
    "lambda:DeleteProvisionedConcurrencyConfig",
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetFunctionConcurrency",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetPolicy",
    "lambda:GetProvisionedConcurrencyConfig",
    "lambda:GetRuntimeManagementConfig",
    "lambda:ListAliases",
    "lambda:ListProvisionedConcurrencyConfigs",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
    "lambda:PublishVersion",
    "lambda:PutFunctionConcurrency",
    "lambda:PutFunctionEventInvokeConfig",
    "lambda:PutProvisionedConcurrencyConfig",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:UpdateAlias",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
)


def function_arns(scope: StackScope) -> list[str]:
    """The stack's functions, and every version and alias of them (`<name>:<qualifier>`)."""
    return [scope.arn("lambda", f"function:{scope.prefix}*")]


def statements(scope: StackScope) -> list[Statement]:
    return [
        allow("Functions", FUNCTION_ACTIONS, function_arns(scope), scope.in_region()),
        allow(
            "FunctionInvokePermissions",
            ["lambda:AddPermission"],
            function_arns(scope),
            scope.in_region(**{"lambda:Principal": list(INVOKE_PRINCIPALS)}),
        ),
        # The release gate invokes the version it just published (`Qualifier`): a qualified ARN, which an
        # unqualified grant does not match (Lambda Developer Guide, "Resources and conditions for Lambda
        # actions"). So neither `$LATEST` unqualified nor the notifier can be invoked by the deploy role.
        allow(
            "ReleaseGateInvoke",
            ["lambda:InvokeFunction"],
            [scope.arn("lambda", f"function:{scope.base}{API_FUNCTION_SUFFIX}:*")],
            scope.in_region(),
        ),
        allow(
            "ReleaseEvents",
            ["events:PutEvents"],
            [scope.arn("events", "event-bus/default")],
            scope.in_region(
                **{"events:source": EVENT_SOURCE, "events:detail-type": EVENT_DETAIL_TYPE}
            ),
        ),
    ]
