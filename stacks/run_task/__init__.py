"""Local task runner: run the API container exactly as the declared ECS task definition says.

    python -m stacks.run_task --stack dev --db postgresql://user:pass@127.0.0.1:5432/booking

The real stack program runs offline (`stacks.offline`); the API's container definition, task volumes
and runtime platform are read from the `aws.ecs.TaskDefinition` it declares, and podman runs the image
with Fargate's semantics (docs/run-task.md; what is not emulated is printed as notes).

- `plan`: task definition -> podman run plan (pure)
- `health`: the ECS container health check state (pure)
- `declared`: what the offline run declares (task definition, RDS instance, secret values)
- `secrets`: a local Secrets Manager (moto server) holding the task's secrets under their ARNs
- `runner`: podman, volumes, health probes, stop
- `session`: puts the pieces together (used by the CLI and the container tests)
"""
