"""Bootstrap of the per-environment prerequisites: state, secrets key, boundary, CI roles."""

from trading_bootstrap.components import EnvironmentBootstrap
from trading_bootstrap.config import BootstrapConfig, build_bootstrap_config, load_bootstrap_config

__all__ = [
    "BootstrapConfig",
    "EnvironmentBootstrap",
    "build_bootstrap_config",
    "load_bootstrap_config",
]
