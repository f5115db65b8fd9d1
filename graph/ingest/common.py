"""What every importer needs: identifier checks and lookups read from the store.

>>> luhn_ok("732829320"), luhn_ok("732829321")
(True, False)
>>> normalise_naf("3832Z"), normalise_naf("38.32z"), normalise_naf("99")
('38.32Z', '38.32Z', None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..namespaces import sparql_prefixes
from ..store import MaillageStore

_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Za-z])$")


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a SIREN or SIRET (digits only)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def siren_problem(siren: str) -> str | None:
    """None if the SIREN is valid, else the reason."""
    if len(siren) != 9 or not siren.isdigit():
        return "SIREN is not 9 digits"
    if not luhn_ok(siren):
        return "SIREN fails the Luhn check"
    return None


def siret_problem(siret: str, siren: str | None = None) -> str | None:
    """None if the SIRET is valid (and starts with ``siren`` when given), else the reason.

    La Poste establishments (SIREN 356000000) are exempt from the Luhn check, as INSEE documents.
    """
    if len(siret) != 14 or not siret.isdigit():
        return "SIRET is not 14 digits"
    if siren is not None and siret[:9] != siren:
        return "SIRET does not start with the SIREN"
    if siret[:9] != "356000000" and not luhn_ok(siret):
        return "SIRET fails the Luhn check"
    return None


def normalise_naf(code: str | None) -> str | None:
    """A NAF rév. 2 code in its dotted form (``38.32Z``), or None if not one."""
    if not code:
        return None
    m = _NAF.match(code.strip())
    return f"{m.group(1)}.{m.group(2)}{m.group(3).upper()}" if m else None


@dataclass(frozen=True)
class FiliereLink:
    filiere: str  # IRI
    domain: str  # IRI


def naf_filiere_map(store: MaillageStore) -> dict[str, list[FiliereLink]]:
    """NAF code (dotted) → the filières (and their domain) the vocabulary proposes for it."""
    q = sparql_prefixes("mai", "skos") + """
    SELECT ?code ?filiere ?domain WHERE {
      ?naf mai:proposedFiliere ?filiere ; skos:notation ?code .
      ?filiere mai:domain ?domain .
    } ORDER BY ?code ?filiere"""
    out: dict[str, list[FiliereLink]] = {}
    for row in store.query(q):  # type: ignore[union-attr]
        out.setdefault(row["code"].value, []).append(
            FiliereLink(row["filiere"].value, row["domain"].value)
        )
    return out


def commune_codes(store: MaillageStore) -> dict[str, str]:
    """INSEE code of every commune and arrondissement in the store → its IRI."""
    q = sparql_prefixes("igeo") + """
    SELECT ?code ?t WHERE {
      { ?t a igeo:Commune } UNION { ?t a igeo:ArrondissementMunicipal }
      ?t igeo:codeINSEE ?code .
    } ORDER BY ?code"""
    return {r["code"].value: r["t"].value for r in store.query(q)}  # type: ignore[union-attr]


def postcode_communes(store: MaillageStore) -> dict[str, list[str]]:
    """Postcode → INSEE codes of the communes it serves (from the territory graph)."""
    q = sparql_prefixes("igeo", "schema") + """
    SELECT ?cp ?code WHERE { ?t schema:postalCode ?cp ; igeo:codeINSEE ?code . } ORDER BY ?cp ?code"""
    out: dict[str, list[str]] = {}
    for r in store.query(q):  # type: ignore[union-attr]
        out.setdefault(r["cp"].value, []).append(r["code"].value)
    return out
