"""CrossGuard policies of the trading platform, importable without a policy server."""

from trading_policies.harness import Violation, evaluate
from trading_policies.pack import PACK_NAME, POLICIES, policy_named

__all__ = ["PACK_NAME", "POLICIES", "Violation", "evaluate", "policy_named"]
