"""Console tests: the suite's fakes and the console's setup on the path."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for path in (HERE, TESTS, TESTS / "service"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
