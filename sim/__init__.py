"""Private-domain growth simulator: why scaling a brand's own audience too early destroys value."""

__version__ = "0.1.0"
