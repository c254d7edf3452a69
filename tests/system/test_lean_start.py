"""A serving process answers without importing what it does not need (scikit-learn, SciPy, SDKs)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

DOMAINS = Path(__file__).resolve().parents[2] / "domains"

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path

    from chatwootai.settings import Settings
    from chatwootai.system import ChatwootAISystem
    from chatwootai.turn import IncomingMessage

    async def main() -> str:
        settings = Settings(CHATWOOTAI_DOMAINS_DIR=Path(sys.argv[1]),
                            CHATWOOTAI_DATA_DIR=Path(sys.argv[2]))
        system = await ChatwootAISystem.create(settings)
        await system.start()
        try:
            message = IncomingMessage(text="quanto custa o protetor solar?", account_id="1")
            outcome = await system.process_message(message, "1:1", "api")
        finally:
            await system.close()
        return outcome.crew

    crew = asyncio.run(main())
    print(json.dumps({"crew": crew, "modules": sorted(sys.modules)}))
    """
)


def test_answering_offline_imports_no_scikit_learn_scipy_sdk_or_redis(tmp_path: Path) -> None:
    """Build the cosmetics hub (fits its classifier) and answer a message in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(DOMAINS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["crew"] == "sales"  # routed by the hub, whose classifier was fitted
    top_level = {name.split(".")[0] for name in report["modules"]}
    # Not needed to answer offline on the embedded store without hot reload.
    unneeded = {"sklearn", "scipy", "threadpoolctl", "joblib", "openai", "redis", "watchfiles"}
    assert not top_level & unneeded
