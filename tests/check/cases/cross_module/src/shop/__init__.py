"""A small shop service: blocking code spread over modules and packages."""

from shop.config import load_config

__all__ = ("load_config",)
