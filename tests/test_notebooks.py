"""The four notebooks execute without error on a store built by the real pipeline.

The store: the reference graph (``maillage init``), a small labelled synthetic SIRENE import
(``maillage synth --structures 3000 --seed 1`` then ``maillage import sirene --synthetic``) and
the analyses (``maillage analyze``). Each notebook runs in a real kernel (nbclient) with
``MAILLAGE_STORE`` pointing at it, and must produce its charts.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from maillage.graph.cli import main
from nbclient import NotebookClient

NOTEBOOKS = ["01_panorama.ipynb", "02_synergies.ipynb", "03_filieres_emergentes.ipynb",
             "04_profil_territoire.ipynb"]
HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOK_DIR = os.path.join(os.path.dirname(HERE), "notebooks")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("notebooks")
    store, synth = root / "store", root / "synth"
    env = ["--store", str(store)]
    assert main(["init", *env]) == 0
    assert main(["synth", "--structures", "3000", "--seed", "1", "--out", str(synth)]) == 0
    assert main(["import", "sirene", "--synthetic", *env, "--report-dir", str(root),
                 "--unites-legales", str(synth / "StockUniteLegale_utf8.csv"),
                 "--etablissements", str(synth / "StockEtablissement_utf8.csv")]) == 0
    assert main(["analyze", *env]) == 0
    return store


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, demo_store, monkeypatch, tmp_path):
    monkeypatch.setenv("MAILLAGE_STORE", str(demo_store))
    monkeypatch.delenv("MAILLAGE_EPCI", raising=False)
    nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{name} is committed with outputs: rebuild it with notebooks/build.py"
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{name} drew no chart"
    text = "".join(o.get("text", "") for o in outputs)
    assert "SYNTHÉTIQUES" in text  # the synthetic data is labelled in every notebook


def test_notebooks_are_generated_by_build_py(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_build", os.path.join(NOTEBOOK_DIR,
                                                                           "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.build(tmp_path):
        committed = nbformat.read(os.path.join(NOTEBOOK_DIR, path.name), as_version=4)
        assert committed == nbformat.read(path, as_version=4), \
            f"{path.name} differs from notebooks/build.py: run it again"
