"""Writing a benchmark's section into BENCHMARKS.md or RELIABILITY.md, between its markers.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "B.md"
>>> replace_section(p, "<!-- a -->", "<!-- /a -->", "## A\\n1", head="# B\\n")
>>> replace_section(p, "<!-- a -->", "<!-- /a -->", "## A\\n2", head="# B\\n")
>>> p.read_text()
'# B\\n\\n<!-- a -->\\n## A\\n2\\n<!-- /a -->\\n'
"""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, start: str, end: str, text: str, *, head: str) -> None:
    """Put ``text`` between the markers ``start`` and ``end`` of ``path`` (appended with its
    markers when they are absent; ``head`` starts a file that does not exist yet)."""
    current = path.read_text(encoding="utf-8") if path.exists() else head
    block = f"{start}\n{text.strip()}\n{end}"
    if start in current and end in current:
        before, rest = current.split(start, 1)
        current = before + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")
