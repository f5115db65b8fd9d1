#!/usr/bin/env bash
# The README's main job: build the demo graph on the embedded store (if not built yet), show what
# it holds, then serve it on http://127.0.0.1:8000 (set MAILLAGE_DEMO_SERVE=0 to stop after the build).
#
# Demo graph = real reference data (ontology, vocabularies, IdF territories, institutions)
#            + the real curated actor datasets (ateliers vélo, citizen-energy cooperatives)
#            + a SYNTHETIC SIRENE extract of realistic Île-de-France size (labelled as such)
#            + the network analyses.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
export MAILLAGE_STORE=${MAILLAGE_STORE:-$PWD/var/store}
N=${MAILLAGE_DEMO_STRUCTURES:-50000}
SEED=${MAILLAGE_DEMO_SEED:-2018}
SYNTH=var/synth-$N-$SEED

# built = the synthetic SIRENE graph is there (works for a directory and for a SPARQL server URL)
if ! $BIN/maillage stats 2>/dev/null | grep -q synthetique-sirene || [ "${MAILLAGE_DEMO_REBUILD:-0}" = "1" ]; then
  echo "== building the demo graph in $MAILLAGE_STORE"
  $BIN/maillage init
  if [ ! -f "$SYNTH/StockEtablissement_utf8.csv" ]; then
    $BIN/maillage synth --structures "$N" --seed "$SEED" --out "$SYNTH"
  fi
  $BIN/maillage import sirene --synthetic \
    --unites-legales "$SYNTH/StockUniteLegale_utf8.csv" \
    --etablissements "$SYNTH/StockEtablissement_utf8.csv" --report-dir var/reports
  $BIN/maillage import curated --report-dir var/reports
  $BIN/maillage analyze --out var/analysis
else
  echo "== demo graph already built in $MAILLAGE_STORE (MAILLAGE_DEMO_REBUILD=1 rebuilds it)"
fi

$BIN/maillage stats
echo
echo "== sample query: ESS structures per TEE domain"
$BIN/maillage query panorama_domaines
if [ "${MAILLAGE_DEMO_SERVE:-1}" = "1" ]; then
  echo
  echo "== serving on http://127.0.0.1:8000  (Ctrl-C to stop)"
  exec $BIN/maillage serve --host 127.0.0.1 --port 8000
fi
