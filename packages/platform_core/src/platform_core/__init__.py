"""Shared Pulumi components and configuration of the trading analytics platform."""
