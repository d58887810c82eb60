"""Running the real ``mtlslint`` command in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GOOD_NGINX = """\
server {
    listen 443 ssl;
    server_name api.internal;
    ssl_certificate     certs/server.pem;
    ssl_certificate_key certs/server.key;
    ssl_client_certificate certs/ca.pem;
    ssl_verify_client on;
    ssl_crl certs/ca.crl;
    if ($ssl_client_s_dn !~ "^CN=billing,O=Example$") { return 403; }
}
"""

BAD_NGINX = """\
server {
    listen 443 ssl;
    server_name api.internal;
    ssl_certificate     certs/server.pem;
    ssl_certificate_key certs/server.key;
    ssl_client_certificate certs/ca.pem;
    ssl_verify_client optional;
    ssl_crl certs/ca.crl;
    if ($ssl_client_s_dn !~ "^CN=billing,O=Example$") { return 403; }
}
"""
BAD_LINE = 7  # ssl_verify_client optional


def run(
    *args: str, cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``mtlslint ARGS`` in ``cwd``, as a user would run it."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mtlslint.cli", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
