"""The reference knowledge graph: ontology, vocabularies, territories, institutions.

``build_reference`` is what ``maillage init`` runs, in one atomic write.
"""

from __future__ import annotations

from collections.abc import Callable

from pyoxigraph import NamedNode

from .settings import Settings
from .store import GraphWriter, MaillageStore

Loader = Callable[[GraphWriter, Settings], "NamedNode | list[NamedNode]"]


def reference_loaders() -> list[tuple[str, Loader]]:
    """The loaders of the reference graph, in order (imported lazily)."""
    from .catalog import load_catalogue
    from .institutions import load_institutions
    from .ontology import load_ontology
    from .territories import load_territories
    from .vocabularies import load_vocabularies

    return [
        ("ontology", load_ontology),
        ("vocabularies", load_vocabularies),
        ("territories", load_territories),
        ("institutions", load_institutions),
        ("catalogue", load_catalogue),
    ]


def build_reference(
    store: MaillageStore, settings: Settings, *, fresh: bool = False,
    progress: Callable[[str], None] | None = None,
) -> None:
    """(Re)build every reference graph in one atomic write; other graphs are kept."""
    with store.writing(fresh=fresh) as writer:
        for name, loader in reference_loaders():
            if progress:
                progress(name)
            loader(writer, settings)
