"""Network analyses of the Maillage graph, written back as RDF with PROV.

One module per analysis, each building its networks from named queries of
``queries/analysis/`` (so every figure traces back to a ``.rq`` file) and returning an
:class:`~maillage.graph.analysis.base.AnalysisOutput`:

- ``colocation``: filières that co-occur in the same territories more than chance (lift, PMI,
  hypergeometric p-value), and their communities (Louvain, optionally Leiden);
- ``emergence``: NAF activities of ESS structures outside every TEE filière whose creations
  grow, with their co-location with TEE filières;
- ``synergies``: pairs of structures in complementary filières in the same or neighbouring
  territories, blocked by territory and capped per structure;
- ``brokers``: filières and structures bridging domains and territories (betweenness);
- ``gaps``: actors per domain and per 10,000 inhabitants in each EPCI against the median, and
  white zones.

``runner.run_analyses`` runs a selection; ``rdf.write_outputs`` writes them into
``graph/analyse``. Nothing is computed at import time.
"""

ANALYSES = ("colocation", "emergence", "synergies", "brokers", "gaps")

__all__ = ["ANALYSES"]
