"""The dev environment: the shared platform with the dials of Pulumi.dev.yaml."""

import pulumi

from platform_core import TradingPlatform, load_config

platform = TradingPlatform("trading-analytics", load_config("dev"))
for name, value in platform.exports.items():
    pulumi.export(name, value)
