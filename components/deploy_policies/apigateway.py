"""API Gateway (HTTP API, the `frontDoor: httpApi` of a Lambda stack): attribute-based.

API Gateway's IAM actions are the HTTP verbs (`apigateway:POST`, `GET`, `PATCH`, `PUT`, `DELETE`) on
the path of the resource, `arn:aws:apigateway:<region>::/apis/<api-id>/...` (no account, and a
generated id instead of the name: "Actions, resources, and condition keys for Amazon API Gateway
Management V2"). So an API cannot be scoped by name in the Resource element. Instead:

- creating an API (`POST /apis`) requires the request to name it `<project>-<env>-*`
  (`apigateway:Request/ApiName`) and to tag it `Environment=<env>` (`aws:RequestTag`);
- everything on or under an existing API (`/apis/<id>`, its routes, integrations, stages, deployments)
  requires the API to carry `Environment=<env>` (`aws:ResourceTag`, listed for every V2 resource type in
  that reference);
- tags live at `/tags/<url-encoded ARN>`, which has no resource-tag key: later tag changes may never
  add, change or remove `Environment` (it is set once, in the create).
Region-confined like everything regional. No REST API (`/restapis`), domain name or VPC link actions.
"""

from __future__ import annotations

from components.deploy_policies._scope import ENVIRONMENT_TAG, StackScope, allow
from components.iam_policies import Statement

VERBS = ("apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT")


def api_arn(region: str, path: str) -> str:
    """API Gateway ARNs carry no account: `arn:aws:apigateway:<region>::<path>`."""
    return f"arn:aws:apigateway:{region}::{path}"


def statements(scope: StackScope) -> list[Statement]:
    region = scope.region
    return [
        allow(
            "HttpApiCreate",
            ["apigateway:POST"],
            [api_arn(region, "/apis")],
            {
                **scope.tagged("aws:RequestTag"),
                "StringLike": {"apigateway:Request/ApiName": f"{scope.prefix}*"},
            },
        ),
        allow(
            "HttpApiOwned",
            VERBS,
            [api_arn(region, "/apis/*")],
            scope.tagged(),
        ),
        # Tag changes after the create: never the Environment tag, so no API can be claimed for (or
        # taken from) an environment by retagging it. The create sends its tags in CreateApi's body
        # (terraform-provider-aws resourceAPICreate: `Tags: getTagsIn(ctx)` in CreateApiInput).
        allow(
            "HttpApiTags",
            ["apigateway:DELETE", "apigateway:POST", "apigateway:PUT"],
            [api_arn(region, "/tags/*")],
            scope.in_region() | {"ForAllValues:StringNotEquals": {"aws:TagKeys": [ENVIRONMENT_TAG]}},
        ),
    ]
