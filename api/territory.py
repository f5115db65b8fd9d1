"""Territory profiles (commune, arrondissement, EPCI, département, région).

A territory page shows, besides the territory's own statements: the local ESS actors per
domain and filière (with a chart), the measures (FREC, Plan Bâtiment Durable / PREB) that local
actors cover or not, the gaps (filières without any local actor; for an EPCI the gaps analysis
when it ran), and synergy suggestions (the synergy analysis when it ran, else the complementary
filières present locally).

The filières and their complementarities come from the named queries ``filieres_tee`` and
``complementarites_filieres``. The per-territory figures use the SPARQL below: the library's
``panorama_filieres_territoires``, ``mesures_territoire`` and ``synergies_territoire`` answer
the same questions for any territory level, but on the 50,000-structure benchmark graph they
took 3–9 s each for a département or the région (the synergies 18 s for a département of the
5,000-structure demo graph), against about a second for the queries below, which first
collect the places of the territory, then the active establishments there. The page links to
the named queries with the territory filled in. Every figure is cached per store generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maillage.graph.catalog import bind_params, get_query
from maillage.graph.namespaces import sparql_prefixes
from pyoxigraph import NamedNode, Variable

from .charts import bar_chart

SYNERGIES_SHOWN = 12
PLACES = """
  { ?lieu igeo:subdivisionDirecteDe* ?t } UNION { ?lieu igeo:subdivisionDirecteDe?/mai:epci ?t }
"""
ACTIVE = """
  FILTER NOT EXISTS { ?acteur mai:closingDate ?fermeture }
  FILTER NOT EXISTS { ?acteur mai:administrativeStatus %(closed)s }
"""
ESTABLISHED = sparql_prefixes("mai", "org", "igeo") + """
SELECT DISTINCT ?acteur ?f ?etab WHERE {
  VALUES ?t { %(t)s }""" + PLACES + """
  ?etab mai:locatedIn ?lieu ; org:siteOf ?acteur ; a mai:Establishment .
  FILTER NOT EXISTS { ?etab mai:closingDate ?etab_fermeture }
  ?acteur mai:filiere ?f .""" + ACTIVE + "}"
LOCATED = sparql_prefixes("mai", "igeo") + """
SELECT DISTINCT ?acteur ?f WHERE {
  VALUES ?t { %(t)s }
  VALUES ?type { mai:Actor mai:Structure }""" + PLACES + """
  ?acteur mai:locatedIn ?lieu ; a ?type ; mai:filiere ?f .""" + ACTIVE + "}"
MEASURES = sparql_prefixes("mai", "skos", "dcterms", "rdfs") + """
SELECT ?m ?programme ?programme_label ?numero ?notation ?titre ?f WHERE {
  ?m a mai:Measure .
  OPTIONAL {
    ?m skos:inScheme|skos:topConceptOf|mai:programme ?programme .
    ?programme a mai:PublicProgramme .
    OPTIONAL { ?programme skos:prefLabel|dcterms:title ?programme_label
               FILTER(LANG(?programme_label) IN ("fr", "")) }
  }
  OPTIONAL { ?m mai:measureNumber ?numero }
  OPTIONAL { ?m skos:notation ?notation }
  OPTIONAL { ?m skos:prefLabel|dcterms:title|rdfs:label ?titre FILTER(LANG(?titre) IN ("fr", "")) }
  OPTIONAL { ?m mai:concernsFiliere ?f }
}"""
SYNERGIES = sparql_prefixes("mai", "igeo", "rdfs") + """
SELECT ?resultat ?rang ?score ?acteur1 ?acteur2 ?filiere1 ?filiere2 ?proximite ?lieu ?relation
       ?justification WHERE {
  VALUES ?t { %(t)s }""" + PLACES + """
  ?resultat mai:territory ?lieu ; a mai:SynergyCandidate ; mai:rank ?rang ; mai:score ?score ;
            mai:firstActor ?acteur1 ; mai:secondActor ?acteur2 ;
            mai:firstFiliere ?filiere1 ; mai:secondFiliere ?filiere2 ; mai:proximity ?proximite .
  OPTIONAL { ?resultat mai:complementarity/mai:relationKind ?relation }
  OPTIONAL { ?resultat rdfs:comment ?justification }
} ORDER BY ?rang LIMIT %(limit)d"""
GAPS = sparql_prefixes("mai", "rdfs") + """
SELECT ?resultat ?classe ?sujet ?libelle ?acteurs ?densite ?mediane ?score WHERE {
  VALUES ?classe { mai:TerritorialGap mai:WhiteZone }
  ?resultat mai:territory %(t)s ; a ?classe ; mai:about ?sujet .
  FILTER(?sujet != %(t)s)
  OPTIONAL { ?resultat rdfs:label ?libelle FILTER(LANG(?libelle) = "fr") }
  OPTIONAL { ?resultat mai:actorCount ?acteurs }
  OPTIONAL { ?resultat mai:density ?densite }
  OPTIONAL { ?resultat mai:medianDensity ?mediane }
  OPTIONAL { ?resultat mai:score ?score }
} ORDER BY ?classe DESC(?score) ?sujet LIMIT 40"""
CATALOGUE_LINKS = {
    "panorama_filieres_territoires": lambda kind, code: {"niveau": kind, "territoire": code},
    "mesures_territoire": lambda kind, code: {"territoire": code},
    "synergies_territoire": lambda kind, code: {"territoire": code},
}


@dataclass
class FiliereCount:
    """Local actors of one filière."""

    iri: str
    slug: str
    label: str
    href: str
    domain: str
    domain_label: str
    actors: set[str] = field(default_factory=set)
    establishments: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.actors)


@dataclass
class Profile:
    """What a territory page shows beyond its own statements."""

    kind: str
    code: str
    filieres: list[FiliereCount] = field(default_factory=list)
    domains: list[tuple[str, str, int]] = field(default_factory=list)
    measures_covered: list[dict[str, Any]] = field(default_factory=list)
    measures_uncovered: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[FiliereCount] = field(default_factory=list)
    gap_results: list[dict[str, Any]] = field(default_factory=list)
    synergies: list[dict[str, Any]] = field(default_factory=list)
    synergy_source: str = ""
    chart: str = ""
    total_actors: int = 0
    queries: list[tuple[str, str]] = field(default_factory=list)


def named_rows(ctx: Any, query_id: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of a named query (terms as strings), parameters bound the catalogue's way."""
    query = get_query(query_id)
    bindings = bind_params(query, params, ctx.settings)
    result = ctx.oxigraph().query(
        query.text, use_default_graph_as_union=True,
        substitutions={Variable(k): v for k, v in bindings.items()} or None)
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]


def _rows(ctx: Any, text: str) -> list[dict[str, Any]]:
    result = ctx.oxigraph().query(text, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]


def _filieres(ctx: Any, builder: Any) -> dict[str, FiliereCount]:
    out = {}
    for row in ctx.cached("filieres_tee", lambda: named_rows(ctx, "filieres_tee", {})):
        if row["code"]:
            domain = row["domaine"].rstrip("/").rsplit("/", 1)[-1]
            out[row["filiere"]] = FiliereCount(
                row["filiere"], row["code"], row["libelle"] or row["code"],
                builder.link(row["filiere"])[0], domain, row["domaineLibelle"] or domain)
    return out


def _local_actors(ctx: Any, node: NamedNode) -> list[dict[str, Any]]:
    def build() -> list[dict[str, Any]]:
        values = {"t": str(node), "closed": str(ctx.iris.concept("etats-administratifs", "C"))}
        return _rows(ctx, ESTABLISHED % values) + _rows(ctx, LOCATED % values)

    return ctx.cached(("local_actors", node.value), build)  # type: ignore[no-any-return]


def territory_profile_data(ctx: Any, builder: Any, node: NamedNode, kind: str,
                           code: str) -> Profile:
    """The profile of a territory page."""
    profile = Profile(kind, code)
    filieres = _filieres(ctx, builder)
    for row in _local_actors(ctx, node):
        f = filieres.get(row["f"])
        if f is not None:
            f.actors.add(row["acteur"])
            if row.get("etab"):
                f.establishments.add(row["etab"])
    present = sorted((f for f in filieres.values() if f.actors), key=lambda f: -f.count)
    profile.filieres = present
    profile.total_actors = len({a for f in present for a in f.actors})
    domains: dict[str, tuple[str, set[str]]] = {}
    for f in filieres.values():
        _, actors = domains.setdefault(f.domain, (f.domain_label, set()))
        actors |= f.actors
    profile.domains = [(d, label, len(a)) for d, (label, a) in sorted(domains.items())]
    profile.gaps = sorted((f for f in filieres.values() if not f.actors),
                          key=lambda f: (f.domain, f.label))
    if present:
        profile.chart = bar_chart([(f.label, f.count, f.domain) for f in present[:20]],
                                  "Acteurs ESS en activité par filière")
    _measures(ctx, builder, profile, filieres)
    _analysis(ctx, builder, node, profile, filieres)
    profile.queries = [(qid, _query_link(builder, qid, make(kind, code)))
                       for qid, make in CATALOGUE_LINKS.items()]
    if kind == "epci":
        profile.queries.append(("lacunes_epci", _query_link(builder, "lacunes_epci",
                                                            {"epci": code})))
    return profile


def _query_link(builder: Any, query_id: str, params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"{builder.mapping.public_url}api/queries/{query_id}?{urlencode(params)}"


def _measures(ctx: Any, builder: Any, profile: Profile,
              filieres: dict[str, FiliereCount]) -> None:
    measures: dict[str, dict[str, Any]] = {}
    for row in ctx.cached("measures", lambda: _rows(ctx, MEASURES)):
        programme = (row["programme"] or "").rstrip("/").rsplit("/", 1)[-1]
        m = measures.setdefault(row["m"], {
            "iri": row["m"], "programme": programme,
            "programme_label": row["programme_label"] or programme,
            "mesure": row["notation"] or row["numero"] or row["m"].rsplit("/", 1)[-1],
            "intitule": row["titre"] or "", "filieres": [], "acteurs": set()})
        f = filieres.get(row["f"] or "")
        if f is not None and f not in m["filieres"]:
            m["filieres"].append(f)
            m["acteurs"] |= f.actors
    for m in sorted(measures.values(), key=lambda m: (m["programme"], len(m["mesure"]),
                                                       m["mesure"])):
        m["href"] = builder.link(m["iri"])[0]
        m["acteurs"] = len(m["acteurs"])
        (profile.measures_covered if m["acteurs"] else profile.measures_uncovered).append(m)


def _analysis(ctx: Any, builder: Any, node: NamedNode, profile: Profile,
              filieres: dict[str, FiliereCount]) -> None:
    values = {"t": str(node), "limit": SYNERGIES_SHOWN}
    if profile.kind == "epci":
        profile.gap_results = _rows(ctx, GAPS % values)
        for row in profile.gap_results:
            row["href"] = builder.link(row["sujet"])[0]
            row["label"] = row["libelle"] or builder.label(row["sujet"])
            row["white"] = row["classe"].endswith("WhiteZone")
    rows = ctx.cached(("synergies", node.value), lambda: _rows(ctx, SYNERGIES % values))
    if rows:
        profile.synergy_source = "analyse"
        for row in rows:
            profile.synergies.append(dict(
                row, href1=builder.link(row["acteur1"])[0], href2=builder.link(row["acteur2"])[0],
                nom1=builder.label(row["acteur1"]), nom2=builder.label(row["acteur2"]),
                filiere1_label=builder.label(row["filiere1"]),
                filiere2_label=builder.label(row["filiere2"]),
                lieu_label=builder.label(row["lieu"]), lieu_href=builder.link(row["lieu"])[0]))
        return
    profile.synergy_source = "complementarites"
    pairs = ctx.cached("complementarites", lambda: named_rows(ctx, "complementarites_filieres", {}))
    for row in pairs:
        a, b = filieres.get(row["de"]), filieres.get(row["vers"])
        if a and b and (a.actors or b.actors):
            profile.synergies.append({"de": a, "vers": b, "relation": row["relation"] or "",
                                      "justification": row["justification"] or "",
                                      "both": bool(a.actors and b.actors)})
    profile.synergies.sort(key=lambda s: (not s["both"], -(s["de"].count + s["vers"].count)))
    profile.synergies = profile.synergies[:SYNERGIES_SHOWN]
