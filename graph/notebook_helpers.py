"""Helpers for the notebooks: open the store, query it as DataFrames, draw charts and maps offline.

Everything renders with matplotlib's Agg backend: figures are returned as PNG images, and the
Île-de-France commune map is drawn from ``data/territoires/communes_idf.geojson`` with a
``PolyCollection`` (no geopandas, no web tiles).

>>> short("https://w3id.org/maillage/voc/tee/reemploi")
'reemploi'
>>> fr_number(1234.5)
'1 234,5'
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection

from .catalog import query_dataframe
from .resources import data_file
from .settings import Settings
from .store import MaillageStore
from .store import open_store as _open_store

matplotlib.use("Agg")  # headless: figures are shown as PNG images (see show)

PARIS = "75056"


def open_store(settings: Settings | None = None) -> MaillageStore:
    """The store named by ``MAILLAGE_STORE`` (or the default store location)."""
    settings = settings or Settings.from_env()
    return _open_store(settings)  # type: ignore[no-any-return]


def frame(store: MaillageStore, query_id: str, **params: Any) -> pd.DataFrame:
    """One call: the named query ``query_id`` with ``params`` as a DataFrame."""
    return query_dataframe(store, query_id, **params)


def short(iri: Any) -> str:
    """The last segment of an IRI (a concept's notation, a territory's code)."""
    return "" if iri is None or (isinstance(iri, float) and np.isnan(iri)) else \
        str(iri).rstrip("/").rsplit("/", 1)[-1]


def fr_number(value: float, digits: int = 1) -> str:
    """A number written the French way (spaces between thousands, decimal comma)."""
    text = f"{value:,.{digits}f}" if value != int(value) else f"{int(value):,}"
    return text.replace(",", " ").replace(".", ",")


def show(fig: plt.Figure) -> None:
    """Display ``fig`` in the notebook as a PNG image (rendered with Agg), and close it."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    display(Image(buffer.getvalue()))


@lru_cache(maxsize=1)
def commune_shapes() -> dict[str, list[np.ndarray]]:
    """INSEE code → outer rings (lon, lat arrays) of the commune or arrondissement."""
    with data_file("territoires", "communes_idf.geojson").open(encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    shapes: dict[str, list[np.ndarray]] = {}
    for f in features:
        geometry = f["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        shapes[f["properties"]["code_insee"]] = [np.asarray(p[0]) for p in polygons]
    return shapes


def choropleth(ax: plt.Axes, values: Mapping[str, float], *, title: str = "",
               label: str = "", cmap: str = "viridis", codes: list[str] | None = None,
               skip: tuple[str, ...] = (PARIS,)) -> PolyCollection:
    """Colour communes (by INSEE code) by ``values``; communes without a value are light grey.

    ``codes`` restricts the map to some communes (an EPCI, a département); Paris (75056) is
    skipped by default because its arrondissements are drawn instead.
    """
    shapes = commune_shapes()
    chosen = [c for c in (codes or sorted(shapes)) if c in shapes and c not in skip]
    polygons, colours = [], []
    for code in chosen:
        for ring in shapes[code]:
            polygons.append(ring)
            colours.append(values.get(code, np.nan))
    data = np.ma.masked_invalid(np.asarray(colours, dtype=float))
    collection = PolyCollection(polygons, cmap=cmap, edgecolors="white", linewidths=0.15)
    collection.set_array(data)
    collection.cmap.set_bad("#e6e6e6")
    ax.add_collection(collection)
    ax.autoscale_view()
    ax.set_aspect(1 / np.cos(np.radians(48.8)))
    ax.set_axis_off()
    ax.set_title(title)
    if data.count():
        ax.figure.colorbar(collection, ax=ax, shrink=0.7, label=label)
    return collection


def bar_chart(series: pd.Series, *, title: str, xlabel: str = "", horizontal: bool = True,
              color: str = "#2a7f62") -> plt.Figure:
    """A simple bar chart of a Series (index = labels)."""
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * len(series))) if horizontal else (8, 4))
    if horizontal:
        series.iloc[::-1].plot.barh(ax=ax, color=color)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("")
    else:
        series.plot.bar(ax=ax, color=color)
        ax.set_ylabel(xlabel)
    ax.set_title(title)
    return fig
