"""underthesea's Viet74K word list, read once for the modules that use it.

Table rows use its two-syllable words to join a word printed over two lines;
search uses it to put diacritics back on a query typed without them.  The
file is read directly: importing `underthesea` (or its `corpus` module) loads
the whole NLP pipeline and costs seconds.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

from cchc.graph.extract.reading import nfc

__all__ = ["viet74k"]

log = logging.getLogger(__name__)


@functools.cache
def viet74k() -> tuple[str, ...]:
    """Every entry of the list, NFC, as printed (proper names keep their capitals); () when it is missing."""
    spec = importlib.util.find_spec("underthesea")  # located, not imported
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / "corpus" / "data" / "Viet74K.txt"
        if path.is_file():
            return tuple(nfc(line.strip()) for line in path.read_text("utf-8").splitlines() if line.strip())
    log.warning("underthesea's Viet74K word list not found: no compound-word signal for table rows, "
                "diacritics restored from the corpus only")  # pragma: no cover - underthesea is a dependency
    return ()
