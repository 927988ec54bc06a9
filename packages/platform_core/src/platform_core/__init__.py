"""Shared Pulumi components and typed per-environment configuration of the trading platform."""

from platform_core.config import ENVIRONMENTS, EnvironmentConfig, build_config, load_config
from platform_core.errors import ConfigError, PlatformError, StackMismatchError
from platform_core.platform import EXPORT_NAMES, TradingPlatform

__all__ = [
    "ENVIRONMENTS",
    "EXPORT_NAMES",
    "ConfigError",
    "EnvironmentConfig",
    "PlatformError",
    "StackMismatchError",
    "TradingPlatform",
    "build_config",
    "load_config",
]
