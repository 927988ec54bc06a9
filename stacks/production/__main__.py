"""One environment: the shared platform, sized by this directory's Pulumi.<env>.yaml."""

import pulumi

from platform_core import TradingPlatform, load_config

platform = TradingPlatform("trading-analytics", load_config())
for name, value in platform.exports.items():
    pulumi.export(name, value)
