"""The store on both backends: all-or-nothing writes, crash safety, readers, one writer at a time.

Embedded: generations and an atomic symlink swap; remote: staged graphs switched by one SPARQL
Update, and a lock held in the engine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from engines import embedded_only
from maillage.graph.errors import StoreError
from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore, open_store

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


def test_exception_leaves_previous_store_intact(disk_store, settings, engine):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    with pytest.raises(RuntimeError):
        with disk_store.writing() as w:
            w.bulk_add_quads(_quad(i) for i in range(2, 1000))
            w.drop_graph(NamedNode("http://example.org/other"))
            raise RuntimeError("boom in the middle of a load")
    assert _count(open_store(settings)) == 1
    if engine is not None:  # nothing but the data and the version marker in the engine
        assert engine.quad_count() == 1 + 1
        assert engine.graphs() == [G.value, "urn:maillage:version"]
    else:
        gens = [p.name for p in disk_store.path.iterdir() if p.name.startswith("gen-")]
        assert len(gens) == 1


@pytest.mark.parametrize("moment", ["staging", "upload"])
def test_killed_writer_leaves_previous_store_intact(disk_store, settings, engine, moment):
    """SIGKILL while the writer stages its changes, or (remote) between two graph uploads."""
    if moment == "upload" and engine is None:
        pytest.skip("the upload step exists on the remote backend only")
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    kill_in_upload = textwrap.dedent("""
        from maillage.graph import remote
        put = remote.RemoteGraphWriter._put
        def put_then_die(self, graph, path):
            put(self, graph, path)
            os.kill(os.getpid(), 9)
        remote.RemoteGraphWriter._put = put_then_die
    """) if moment == "upload" else ""
    script = textwrap.dedent("""
        import os
        from pyoxigraph import Literal, NamedNode, Quad
        from maillage.graph.settings import Settings
        from maillage.graph.store import open_store
        %s
        s = open_store(Settings.from_env())
        with s.writing() as w:
            w.bulk_add_quads(Quad(NamedNode(f"http://e/{i}"), NamedNode("http://e/p"), Literal(i),
                                  NamedNode(f"http://e/g{i %% 2}")) for i in range(5000))
            if %r == "staging":
                os.kill(os.getpid(), 9)
    """) % (kill_in_upload, moment)
    proc = subprocess.run([sys.executable, "-c", script])
    assert proc.returncode == -9
    assert _count(open_store(settings)) == 1
    assert open_store(settings).named_graphs() == [G]
    # the next write sweeps what the killed writer left (generation, or lock and staging graphs)
    with disk_store.writing() as w:
        w.add_quads([_quad(2)])
    assert _count(open_store(settings)) == 2
    if engine is not None:
        assert engine.graphs() == [G.value, "urn:maillage:version"]
    else:
        assert len([p for p in disk_store.path.iterdir() if p.name.startswith("gen-")]) == 1


def test_readers_follow_swaps_and_open_handles_keep_their_snapshot(disk_store, settings):
    embedded_only(settings)
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


def test_readers_see_every_write_and_the_version_changes(disk_store, settings):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
    reader = open_store(settings)
    before = reader.generation()
    assert _count(reader) == 1
    with disk_store.writing() as w:
        w.add_quads([_quad(2)])
    assert _count(reader) == 2
    assert open_store(settings).generation() != before


def test_concurrent_writers_are_refused(disk_store, settings):
    with disk_store.writing() as w:
        w.add_quads([_quad(1)])
        with pytest.raises(StoreError, match="another process"):
            with open_store(settings).writing():
                pass
    with open_store(settings).writing() as w:  # the lock was released
        w.add_quads([_quad(3)])
    assert _count(open_store(settings)) == 2


def test_writer_reads_its_own_writes_and_updates_staged_graphs(disk_store, settings):
    """What importers rely on: queries and updates inside a write block see the block's changes."""
    with disk_store.writing() as w:
        w.add_quads([_quad(i) for i in range(5)])
    with disk_store.writing() as w:
        w.add_quads([_quad(10)])
        n = w.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{G.value}> {{ ?s ?p ?o }} }}")
        assert int(next(iter(n))["n"].value) == 6
        w.update(f"DELETE WHERE {{ GRAPH <{G.value}> {{ <http://example.org/s0> ?p ?o }} }}")
        w.replace_graph(NamedNode("http://example.org/h"), [_quad(99)])
    assert _count(open_store(settings)) == 6
    assert open_store(settings).count(NamedNode("http://example.org/h")) == 1


def test_fresh_write_replaces_everything(disk_store, settings):
    with disk_store.writing() as w:
        w.add_quads([_quad(1), _quad(2)])
    with disk_store.writing(fresh=True) as w:
        w.add_quads([Quad(NamedNode("http://e/x"), NamedNode("http://e/p"), Literal(1),
                          NamedNode("http://e/g"))])
    store = open_store(settings)
    assert store.named_graphs() == [NamedNode("http://e/g")]
    assert _count(store) == 1


def test_dump_round_trips_through_both_backends(disk_store, settings, tmp_path):
    from pyoxigraph import RdfFormat

    with disk_store.writing() as w:
        w.add_quads([_quad(i) for i in range(20)])
    out = tmp_path / "dump.nq"
    open_store(settings).dump(out, RdfFormat.N_QUADS)
    copy = MaillageStore(None)
    with copy.writing() as w:
        w.load(out, RdfFormat.N_QUADS)
    assert _count(copy) == 20 and copy.named_graphs() == [G]
