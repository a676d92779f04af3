"""Who may assume the delivery roles: one GitHub subject of one repository, audience STS."""

from __future__ import annotations

from components.deploy_policies._scope import PolicyDocument
from components.iam_policies import document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"


def environment_subject(repository: str, environment: str) -> str:
    """The `sub` claim GitHub puts in the OIDC token of a job that runs in a GitHub environment."""
    return f"repo:{repository}:environment:{environment}"


def pull_request_subject(repository: str) -> str:
    """The `sub` claim of a job triggered by `pull_request` (never issued to forks' workflows)."""
    return f"repo:{repository}:pull_request"


def github_trust_policy(provider_arn: str, subject: str) -> PolicyDocument:
    """StringEquals, never StringLike: a wildcard (`repo:owner/*`, `...:environment:*`) would hand prod
    credentials to any branch, fork-synced repository or environment that matches."""
    return document(
        [
            {
                "Sid": "GitHubActionsOidc",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            }
        ]
    )
