"""Shared Pulumi components and typed per-environment configuration of the trading platform."""

from platform_core.config import DIALS, EnvironmentConfig
from platform_core.environments import discover_environments
from platform_core.errors import ConfigError, PlatformError, StackMismatchError
from platform_core.loading import build_config, load_config
from platform_core.platform import EXPORT_NAMES, TradingPlatform

__all__ = [
    "DIALS",
    "EXPORT_NAMES",
    "ConfigError",
    "EnvironmentConfig",
    "PlatformError",
    "StackMismatchError",
    "TradingPlatform",
    "build_config",
    "discover_environments",
    "load_config",
]
