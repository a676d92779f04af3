"""A local Secrets Manager (moto in server mode) holding the task's secrets under their declared ARNs.

Two callers read it, as on AWS: the runner resolves the task definition's `secrets` with
GetSecretValue (what the ECS agent does with the task execution role), and the app inside the
container reads `DB_SECRET_ARN` itself (what it does with the task role).
"""

from __future__ import annotations

import http.client
import logging
import socket
from typing import Any

from stacks.run_task.plan import SecretRef, secret_value

# moto's server accepts any credentials; these only satisfy botocore's signer.
STAND_IN_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local-task-runner",
    "AWS_SECRET_ACCESS_KEY": "local-task-runner",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SecretsStandIn:
    def __init__(self, region: str) -> None:
        from moto.server import ThreadedMotoServer

        # The server's per-request access log would drown the runner's own report.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.region = region
        self.port = _free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # moto keeps its state per process, not per server: start from an empty Secrets Manager.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/moto-api/reset")
            if connection.getresponse().status != 200:
                raise RuntimeError("the local Secrets Manager (moto) refused to reset")
        finally:
            connection.close()
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "secretsmanager",
                region_name=self.region,
                endpoint_url=self.endpoint,
                aws_access_key_id=STAND_IN_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=STAND_IN_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return self._client

    def put(self, arn: str, secret_string: str) -> None:
        """Store `secret_string` as the AWSCURRENT version of the secret with exactly this ARN."""
        name, suffix = split_secret_arn(arn)
        # Secrets Manager makes up the ARN's 6-character suffix at creation; the declared task definition
        # names the one AWS made. moto takes it from its documented `_custom_id_` tag.
        tags = [{"Key": "_custom_id_", "Value": suffix}] if suffix else []
        created = self.client.create_secret(Name=name, SecretString=secret_string, Tags=tags)
        if created["ARN"] != arn:
            raise RuntimeError(f"the local Secrets Manager made {created['ARN']} instead of {arn}")

    def resolve(self, ref: SecretRef) -> str:
        """What ECS injects for one `secrets` entry: GetSecretValue, then the JSON key if any."""
        kwargs: dict[str, str] = {"SecretId": ref.secret_id}
        if ref.version_stage:
            kwargs["VersionStage"] = ref.version_stage
        if ref.version_id:
            kwargs["VersionId"] = ref.version_id
        response = self.client.get_secret_value(**kwargs)
        return secret_value(ref, response["SecretString"])

    def container_environment(self) -> dict[str, str]:
        """What the container's AWS SDK needs to reach this stand-in instead of AWS (host network)."""
        # botocore's service-specific endpoint variable: AWS_ENDPOINT_URL_<service id, upper snake case>.
        return {"AWS_ENDPOINT_URL_SECRETS_MANAGER": self.endpoint, **STAND_IN_CREDENTIALS}

    def stop(self) -> None:
        self._server.stop()


def split_secret_arn(arn: str) -> tuple[str, str]:
    """(name, suffix): the ARN's resource part and the 6-character suffix Secrets Manager appends."""
    resource = arn.split(":", 6)[6]
    name, dash, suffix = resource.rpartition("-")
    return (name, suffix) if dash and len(suffix) == 6 else (resource, "")
