"""Maillage: the knowledge graph of the Île-de-France ESS in the ecological transition."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("maillage")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
