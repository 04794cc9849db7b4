"""Registry: the national strategic-technology project and fund registry."""

__version__ = "0.1.0"
