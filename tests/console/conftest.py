"""Console tests: the suite's fakes, the service tests' deployment helper and the console's setup.

Paths are appended, never put first: the service tests import their own ``conftest`` by name,
which must stay the first one found on the path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for path in (TESTS, HERE):
    if str(path) not in sys.path:
        sys.path.append(str(path))
if "service_deployment" not in sys.modules:  # launch(), free_port(), wait_for()
    spec = importlib.util.spec_from_file_location(
        "service_deployment", TESTS / "service" / "service_deployment.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["service_deployment"] = module
    spec.loader.exec_module(module)
