"""Entry point of the policy pack: `pulumi preview --policy-pack <this directory>` runs this file.

Constructing `PolicyPack` starts the analyzer's gRPC server and blocks, so nothing else imports
this module; the policies themselves live in `trading_policies` and are tested offline.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from trading_policies import PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=list(POLICIES), enforcement_level=EnforcementLevel.MANDATORY)
