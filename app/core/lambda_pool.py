"""How many database connections one Lambda execution environment holds.

A plain module (no imports) because the stack program reads it too, to check reserved concurrency x
pool size against RDS's max_connections, and the infrastructure venv has no pydantic
(tests/test_pulumi_cli_install.py installs only the infra group, as `pulumi install` does).
"""

# A Lambda execution environment serves one request at a time (AWS Lambda Developer Guide, "Lambda
# execution environment"), so one pooled connection is all it can use; every extra one is held idle
# in RDS's max_connections, multiplied by the function's concurrency.
LAMBDA_POOL_DEFAULTS = {"DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0}
