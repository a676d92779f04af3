"""LambdaService's plain builders: the execution role's least-privilege policy and the environment."""

from __future__ import annotations

from components.lambda_service import execution_role_policy, function_environment, lambda_trust_policy

REGION, ACCOUNT = "eu-west-1", "123456789012"
DB_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1234-AbCdEf"
JWT_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:booking-dev-jwt-XyZ123"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/booking-dev-api"


def _policy() -> dict[str, dict[str, object]]:
    doc = execution_role_policy(
        region=REGION,
        account_id=ACCOUNT,
        log_group_arn=LOG_GROUP,
        db_secret_arn=DB_SECRET,
        jwt_secret_arn=JWT_SECRET,
        subnet_ids=["subnet-b", "subnet-a"],
        security_group_id="sg-1",
    )
    assert doc["Version"] == "2012-10-17"
    return {s["Sid"]: s for s in doc["Statement"]}


def test_policy_names_exact_resources() -> None:
    statements = _policy()
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    assert statements == {
        "ReadAppSecrets": {
            "Sid": "ReadAppSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": sorted([DB_SECRET, JWT_SECRET]),
        },
        "WriteOwnLogs": {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{LOG_GROUP}:*"],
        },
        "CreateNetworkInterfacesInOwnSubnets": {
            "Sid": "CreateNetworkInterfacesInOwnSubnets",
            "Effect": "Allow",
            "Action": ["ec2:CreateNetworkInterface"],
            "Resource": [
                f"{ec2}:network-interface/*",
                f"{ec2}:subnet/subnet-a",
                f"{ec2}:subnet/subnet-b",
                f"{ec2}:security-group/sg-1",
            ],
        },
        "ManageNetworkInterfaces": {
            "Sid": "ManageNetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": [f"{ec2}:network-interface/*"],
        },
        "DescribeNetworkNoResourceLevel": {
            "Sid": "DescribeNetworkNoResourceLevel",
            "Effect": "Allow",
            "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "Resource": ["*"],
        },
    }


def test_policy_covers_the_managed_vpc_policys_actions_except_log_group_creation() -> None:
    """AWSLambdaVPCAccessExecutionRole's actions (AWS managed policy reference, v3); the log group exists
    already (the component creates it), so logs:CreateLogGroup is left out."""
    managed = {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
    granted = {a for s in _policy().values() for a in s["Action"]}  # type: ignore[attr-defined]
    assert granted - {"secretsmanager:GetSecretValue"} == managed - {"logs:CreateLogGroup"}


def test_environment_holds_arns_never_secret_values() -> None:
    env = function_environment(
        db_host="db.example",
        db_port=5432,
        db_name="booking",
        db_secret_arn=DB_SECRET,
        jwt_secret_arn=JWT_SECRET,
        log_level="INFO",
        metrics_namespace=None,
    )
    assert env["DB_SECRET_ARN"] == DB_SECRET and env["JWT_SECRET_ARN"] == JWT_SECRET
    assert not {"JWT_SECRET", "DB_PASSWORD", "DB_USERNAME", "AWS_REGION"} & set(env)
    assert (env["METRICS_ENABLED"], env["DB_POOL_SIZE"], env["DB_MAX_OVERFLOW"]) == ("false", "1", "0")
    assert "METRICS_NAMESPACE" not in env


def test_trust_policy_is_lambda_only() -> None:
    (trust,) = lambda_trust_policy()["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
