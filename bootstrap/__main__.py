"""Bootstrap of one environment (the stack name): state bucket, secrets key and CI roles."""

import pulumi
from trading_bootstrap import EnvironmentBootstrap, load_bootstrap_config

bootstrap = EnvironmentBootstrap("trading-analytics-bootstrap", load_bootstrap_config())
for name, value in bootstrap.exports.items():
    pulumi.export(name, value)
