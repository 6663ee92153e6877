"""Private-domain growth simulator: why scaling a brand's own audience too early destroys value."""

from importlib.metadata import PackageNotFoundError, version

try:  # setuptools-scm derives it from git at install time (pyproject.toml, [tool.setuptools_scm])
    __version__ = version("privsim")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0.0.0+unknown"
