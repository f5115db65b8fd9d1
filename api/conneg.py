"""Content negotiation: explicit media-type tables and a q-value ``Accept`` parser.

Every format the server can produce is a row of a table below (media type, short name used by
the ``format`` parameter and URL suffixes, serializer). :func:`negotiate` picks the best row for
an ``Accept`` header following RFC 9110 (q-values, most specific range wins), and returns None
when nothing is acceptable (the caller answers 406).

>>> negotiate("text/csv;q=0.5, application/sparql-results+xml", RESULTS).name
'xml'
>>> negotiate("text/html", RESULTS) is None
True
>>> negotiate("", RDF).media_type
'text/turtle'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import QueryResultsFormat, RdfFormat


@dataclass(frozen=True)
class MediaType:
    """One output format: its media type, short name (``format=``, suffix) and engine format."""

    media_type: str
    name: str
    engine: QueryResultsFormat | RdfFormat | None = None
    charset: bool = True

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value (with charset for text formats)."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


# SELECT and ASK results. The first row is the default (no Accept header, */*).
RESULTS: tuple[MediaType, ...] = (
    MediaType("application/sparql-results+json", "json", QueryResultsFormat.JSON),
    MediaType("application/sparql-results+xml", "xml", QueryResultsFormat.XML),
    MediaType("text/csv", "csv", QueryResultsFormat.CSV),
    MediaType("text/tab-separated-values", "tsv", QueryResultsFormat.TSV),
    MediaType("application/json", "json", QueryResultsFormat.JSON),
    MediaType("application/xml", "xml", QueryResultsFormat.XML),
    MediaType("text/xml", "xml", QueryResultsFormat.XML),
)

# CONSTRUCT and DESCRIBE results, Linked Data documents. Turtle is the default.
RDF: tuple[MediaType, ...] = (
    MediaType("text/turtle", "ttl", RdfFormat.TURTLE),
    MediaType("application/ld+json", "jsonld", RdfFormat.JSON_LD),
    MediaType("application/n-triples", "nt", RdfFormat.N_TRIPLES),
    MediaType("application/rdf+xml", "rdf", RdfFormat.RDF_XML),
    MediaType("application/n-quads", "nq", RdfFormat.N_QUADS),
    MediaType("application/trig", "trig", RdfFormat.TRIG),
    MediaType("application/x-turtle", "ttl", RdfFormat.TURTLE),
    MediaType("text/plain", "nt", RdfFormat.N_TRIPLES),
)

HTML = MediaType("text/html", "html")
JSON = MediaType("application/json", "json", charset=False)
CSV = MediaType("text/csv", "csv")

# Linked Data documents: HTML for people first, then RDF.
DOCUMENT: tuple[MediaType, ...] = (HTML, MediaType("application/xhtml+xml", "html"), *RDF)

# ``format=`` values accepted as aliases of the short names.
ALIASES: dict[str, str] = {
    "srj": "json", "srx": "xml", "turtle": "ttl", "json-ld": "jsonld", "ntriples": "nt",
    "n-triples": "nt", "rdfxml": "rdf", "xml-rdf": "rdf", "nquads": "nq", "n-quads": "nq",
}

MAX_ACCEPT_RANGES = 64


@dataclass(frozen=True)
class MediaRange:
    """One element of an ``Accept`` header."""

    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 ``type/*``, 1 ``*/*``), 0 if no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        if self.type == main and self.subtype == sub:
            return 3
        return 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an ``Accept`` header (cached: clients repeat the same few headers)."""
    return list(_parse_accept(header or "")[:MAX_ACCEPT_RANGES])


@lru_cache(maxsize=512)
def _parse_accept(header: str) -> tuple[MediaRange, ...]:
    """Parse an ``Accept`` header, skipping malformed elements (never raises).

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.3, text/turtle, x;q=1")]
    [('text', '*', 0.3), ('text', 'turtle', 1.0)]
    >>> parse_accept("text/turtle;q=abc")
    []
    """
    ranges: list[MediaRange] = []
    for element in header[:4096].split(",")[:MAX_ACCEPT_RANGES]:
        media, *params = element.split(";")
        main, slash, sub = media.strip().lower().partition("/")
        if not slash or not main or not sub or " " in main + sub:
            continue
        q: float | None = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                q = _qvalue(value)
        if q is not None:  # an unreadable q-value: the element is ignored
            ranges.append(MediaRange(main, sub, q))
    return tuple(ranges)


def _qvalue(text: str) -> float | None:
    """A q-value clamped to [0, 1]; None when it cannot be read.

    >>> _qvalue("0.8"), _qvalue("7"), _qvalue("-1"), _qvalue("nan"), _qvalue("")
    (0.8, 1.0, 0.0, None, None)
    """
    try:
        q = float(text.strip())
    except ValueError:
        return None
    if math.isnan(q):
        return None
    return min(max(q, 0.0), 1.0)


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """The q-value the client gives ``media_type``: from its most specific matching range."""
    best_specificity, best_q = 0, 0.0
    for r in ranges:
        specificity = r.matches(media_type)
        if specificity > best_specificity:
            best_specificity, best_q = specificity, r.q
    return best_q


@lru_cache(maxsize=1024)
def negotiate(accept: str | None, offers: tuple[MediaType, ...]) -> MediaType | None:
    """The best offer for an ``Accept`` header; ties go to the server's order.

    No header (or an empty or unreadable one) means anything is acceptable.

    >>> negotiate("application/json", RESULTS).media_type
    'application/json'
    >>> negotiate("text/*;q=0.9, text/tab-separated-values", RESULTS).name
    'tsv'
    >>> negotiate("*/*;q=0", RDF) is None
    True
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        q = quality(ranges, offer.media_type)
        if q > best_q:
            best, best_q = offer, q
    return best


def by_name(name: str, offers: tuple[MediaType, ...]) -> MediaType | None:
    """The offer for a ``format=`` value or URL suffix (short name, alias or media type).

    >>> by_name("turtle", RDF).media_type
    'text/turtle'
    >>> by_name("text/csv", RESULTS).name
    'csv'
    >>> by_name("pdf", RDF) is None
    True
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    for offer in offers:
        if key in (offer.name, offer.media_type):
            return offer
    return None


def asks_for_html(accept: str | None) -> bool:
    """True when a client names HTML explicitly and prefers it to JSON (error pages).

    >>> asks_for_html("text/html,*/*;q=0.8"), asks_for_html("*/*"), asks_for_html(None)
    (True, False, False)
    """
    ranges = parse_accept(accept)
    named = [r for r in ranges if r.type == "text" and r.subtype == "html" and r.q > 0]
    return bool(named) and named[0].q >= quality(ranges, "application/json")


def prefers_html(accept: str | None) -> bool:
    """True when a client ranks HTML above every RDF format (a web browser).

    >>> prefers_html("text/html,application/xhtml+xml,*/*;q=0.8")
    True
    >>> prefers_html("text/turtle, text/html;q=0.5")
    False
    >>> prefers_html(None)
    False
    """
    ranges = parse_accept(accept)
    if not ranges:
        return False
    html_q = max(quality(ranges, "text/html"), quality(ranges, "application/xhtml+xml"))
    rdf_q = max((quality(ranges, m.media_type) for m in RDF), default=0.0)
    return html_q > 0 and html_q >= rdf_q
