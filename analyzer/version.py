"""The package version, in one place (the JSON, the report and ``--version`` show it)."""

__version__ = "0.1.0"
