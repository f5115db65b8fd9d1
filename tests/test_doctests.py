"""Run the ``>>>`` examples of every module of maillage.graph and maillage.api."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import maillage.api
import maillage.graph


def _modules() -> list[str]:
    names = []
    for pkg in (maillage.graph, maillage.api):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
