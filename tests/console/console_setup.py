"""A domains folder with tenants' console tokens and a broken domain, and the tokens."""

from __future__ import annotations

import shutil
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
DOMAINS = TESTS.parent / "domains"
ADMIN = "admin-console-token-K7"
BELA = "bela-console-token-Q2"
"""Console token of the cosmetics tenant (account 1 and inbox 12: cosmetics, bela-pele-moema)."""
RETAIL = "retail-console-token-W9"
"""Console token of the retail tenant (account 3: retail)."""

TENANTS = """\
accounts:
  "1":
    domain: cosmetics
    console_token_env: CONSOLE_TOKEN_BELA
  "2": health
  "3":
    domain: retail
    webhook_secret_env: CHATWOOT_WEBHOOK_SECRET_RETAIL
    console_token_env: CONSOLE_TOKEN_RETAIL
inboxes:
  "12":
    domain: bela-pele-moema
    console_token_env: CONSOLE_TOKEN_BELA
"""


def console_domains(root: Path, *, broken: bool = True) -> Path:
    """The shipped domains, tenants with console tokens, and (with `broken`) a broken `petshop`."""
    shutil.copytree(DOMAINS, root)
    (root / "tenants.yaml").write_text(TENANTS, encoding="utf-8")
    if broken:
        shutil.copytree(root / "retail", root / "petshop")
        path = root / "petshop" / "domain.yaml"
        text = path.read_text(encoding="utf-8")
        text = text.replace("name: retail", "name: petshop", 1)
        path.write_text(text.replace("agents:", "agents:\n  oops: [not, a, mapping]", 1))
    return root
