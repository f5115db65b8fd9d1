"""The curated datasets shipped in ``data/raw/`` and the mappings that import them.

``import_curated`` imports them all, in order, in one atomic write (the sites and the served
communes link to the cooperatives, so the cooperatives come first). What is imported and why:

- ``ateliers-velo`` (``heureux-cyclage-wikidata/liste.csv``, Apache-2.0): the IdF ateliers vélo
  as mai:Actor in filière ``velo``, members of L'Heureux Cyclage (2020 flag) linked with
  ``org:memberOf`` to ``{base}id/organisation/heureux-cyclage``;
- ``energie-citoyenne-cooperatives``, ``-communes``, ``-sites``
  (``cooptracker-energie-citoyenne-idf/``, CC BY-SA 4.0, share-alike stated in each graph):
  the 5 cooperatives (filière ``enr-citoyennes``), the communes they serve (``mai:serves``) and
  the 27 PV sites (mai:Site, ``org:siteOf`` their cooperative).

Not imported (see :data:`SKIPPED`): the sociétaires counts, the La Poste postcode file, the
cooperatives' commune polygons and the LVAO fixtures.
"""

from __future__ import annotations

from pathlib import Path

from ..resources import data_file
from ..settings import Settings
from ..store import MaillageStore
from .csv_import import import_into
from .mapping import Mapping, load_mapping
from .report import ImportReport, write_reports

#: shipped mappings (``data/mappings/{name}.toml``), in import order
CURATED: tuple[str, ...] = (
    "ateliers-velo",
    "energie-citoyenne-cooperatives",
    "energie-citoyenne-communes",
    "energie-citoyenne-sites",
)

#: files of ``data/raw/`` deliberately not imported, with the reason
SKIPPED: dict[str, str] = {
    "cooptracker-energie-citoyenne-idf/societaires_electrons_solaires.csv":
        "member counts of one cooperative per commune: the ontology has no term for a "
        "per-territory member count (it would need a qualified node such as mai:memberCount)",
    "cooptracker-energie-citoyenne-idf/IDF_filtered.geojson":
        "commune polygons of the cooperatives' map: the territory graph already has the communes",
    "laposte-codes-postaux/laposte_hexasmal_idf.csv":
        "not needed (the territory graph has the postcodes); licence not stated in its repository",
    "lvao-qfdmo-fixtures/acteurs.json":
        "10 actors, none in Île-de-France (used by the tests of SIRET handling and of the "
        "outside-IdF filter); the LVAO taxonomies become SKOS vocabularies elsewhere",
}


def curated_mappings() -> list[Mapping]:
    """The shipped mappings, in import order."""
    return [load_mapping(data_file("mappings", f"{name}.toml")) for name in CURATED]


def import_curated(store: MaillageStore, settings: Settings,
                   report_dir: Path | None = None) -> list[ImportReport]:
    """Import every shipped dataset in one atomic write; write the reports to ``report_dir``."""
    reports = []
    with store.writing() as writer:
        for mapping in curated_mappings():
            path = mapping.shipped_file()
            assert path is not None, f"{mapping.path} has no [dataset] file"
            reports.append(import_into(writer, settings, mapping, path))
    if report_dir is not None:
        for report in reports:
            write_reports([report], report_dir, report.extra["dataset"])
    return reports
