"""The staging environment: the shared platform with the dials of Pulumi.staging.yaml."""

import pulumi

from platform_core import TradingPlatform, load_config

platform = TradingPlatform("trading-analytics", load_config("staging"))
for name, value in platform.exports.items():
    pulumi.export(name, value)
