"""Guardrails: the platform invariants (invariants.py) and the Pulumi policy pack built on them."""
