"""Bootstrap program: the state backend and the GitHub OIDC deploy roles, run once per AWS account."""
