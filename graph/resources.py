"""Access to the package data (ontology, vocabularies, queries, data tables).

>>> data_file("territoires", "communes_idf.csv").name
'communes_idf.csv'
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def _path(package: str, *parts: str) -> Path:
    resource = files(package).joinpath(*parts)
    with as_file(resource) as p:  # package data is installed as plain files
        return Path(p)


def ontology_file(*parts: str) -> Path:
    return _path("maillage.ontology", *parts)


def queries_dir() -> Path:
    return _path("maillage.queries")


def data_file(*parts: str) -> Path:
    return _path("maillage.data", *parts)
