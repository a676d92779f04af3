"""Entry point of the policy pack: `pulumi preview --policy-pack policies`."""

from pulumi_policy import PolicyPack

from policies.pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=list(build_policies()))
