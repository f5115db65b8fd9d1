"""The store: atomic generations, crash safety, read-only readers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from maillage.graph.errors import StoreError
from maillage.graph.store import MaillageStore

G = NamedNode("http://example.org/g")


def _quad(i: int) -> Quad:
    return Quad(NamedNode(f"http://example.org/s{i}"), NamedNode("http://example.org/p"), Literal(i), G)


def _count(store: MaillageStore) -> int:
    return int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)


def test_write_then_read(disk_store):
    with disk_store.writing() as w:
        w.add_quads([_quad(1), _quad(2)])
    assert _count(disk_store) == 2
    assert disk_store.named_graphs() == [G]


def test_exception_leaves_previous_store_intact(disk_store):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    with pytest.raises(RuntimeError):
        with disk_store.writing() as w:
            w.bulk_add_quads(_quad(i) for i in range(2, 1000))
            raise RuntimeError("boom in the middle of a load")
    assert _count(MaillageStore(disk_store.path)) == 1
    gens = [p.name for p in disk_store.path.iterdir() if p.name.startswith("gen-")]
    assert len(gens) == 1


def test_killed_writer_leaves_previous_store_intact(disk_store):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    script = textwrap.dedent(f"""
        import os
        from pyoxigraph import Literal, NamedNode, Quad
        from maillage.graph.store import MaillageStore
        s = MaillageStore({str(disk_store.path)!r})
        with s.writing() as w:
            w.bulk_add_quads(Quad(NamedNode(f"http://e/{{i}}"), NamedNode("http://e/p"), Literal(i),
                                  NamedNode("http://e/g")) for i in range(5000))
            os.kill(os.getpid(), 9)
    """)
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode == -9
    assert _count(MaillageStore(disk_store.path)) == 1
    # the next write sweeps the abandoned generation
    with disk_store.writing() as w:
        w.add_quads([_quad(2)])
    assert _count(MaillageStore(disk_store.path)) == 2
    assert len([p for p in disk_store.path.iterdir() if p.name.startswith("gen-")]) == 1


def test_readers_follow_swaps_and_open_handles_keep_their_snapshot(disk_store):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    reader = MaillageStore(disk_store.path)
    handle = reader.oxigraph
    assert _count(reader) == 1
    with disk_store.writing() as w:
        w.add_quads([_quad(2)])
    assert _count(reader) == 2
    assert len(list(handle.query("SELECT * WHERE { ?s ?p ?o }", use_default_graph_as_union=True))) == 1


def test_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="maillage init"):
        MaillageStore(tmp_path / "nothing").query("ASK {}")


def test_store_path_that_is_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "store"
    target.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the store directory"):
        with MaillageStore(target).writing():
            pass


def test_concurrent_writers_are_refused(disk_store):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
        with pytest.raises(StoreError, match="another process"):
            with MaillageStore(disk_store.path).writing():
                pass
