"""Prepare the `make demo-probe` nginx in a temporary folder (used by scripts/demo-probe.sh).

Writes DIR/pki/ (a throw-away CA, a server chain, a good and a revoked client certificate and a
CRL, all minted with mtlslint.probe.mint), DIR/nginx.conf from fixtures/probe/nginx.conf with free
loopback ports, and DIR/bench-servers.conf (``--many N`` copies of the required server, for timing
N targets). Prints one target per line: ``NAME 127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
from pathlib import Path

from mtlslint.probe import mint

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "probe" / "nginx.conf"
DEMO_SERVERS = ("REQUIRED", "OPTIONAL", "NO_CA", "LEGACY")
BENCH_SERVER = """    server {{  # bench {index}
        listen 127.0.0.1:{port} ssl;
        ssl_client_certificate pki/ca.pem;
        ssl_crl pki/ca.crl.pem;
        ssl_verify_client on;
        location / {{ return 200 "ok\\n"; }}
    }}
"""


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def write_pki(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = mint.now()
    root = mint.new_ca("mtlslint demo CA")
    intermediate = mint.new_ca("mtlslint demo server intermediate", issuer=root)
    server = mint.issue(
        intermediate, "localhost", eku=(mint.SERVER_AUTH,), dns_names=("localhost",),
        ip_addresses=("127.0.0.1",), not_after=now + dt.timedelta(days=90),
    )
    client = mint.issue(root, "demo-client", not_after=now + dt.timedelta(days=1))
    revoked = mint.issue(root, "demo-revoked-client", not_after=now + dt.timedelta(days=1))
    files = {
        "ca.pem": mint.pem(root.certificate),
        "ca.key": root.key_pem(),
        "server-chain.pem": server.chain_pem(),
        "server.key": server.key_pem(),
        "client.pem": client.chain_pem(),
        "client.key": client.key_pem(),
        "revoked.pem": revoked.chain_pem(),
        "revoked.key": revoked.key_pem(),
        "ca.crl.pem": mint.pem(mint.crl(root, [revoked.certificate])),
    }
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        path.chmod(0o600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--many", type=int, default=0, help="extra required servers (bench)")
    args = parser.parse_args()
    folder: Path = args.folder
    write_pki(folder / "pki")
    ports = free_ports(len(DEMO_SERVERS) + args.many)
    config = FIXTURE.read_text(encoding="utf-8")
    targets = []
    for name, port in zip(DEMO_SERVERS, ports, strict=False):
        config = config.replace(f"@PORT_{name}@", str(port))
        targets.append(f"{name.lower()} 127.0.0.1:{port}")
    bench_ports = ports[len(DEMO_SERVERS) :]
    (folder / "nginx.conf").write_text(config, encoding="utf-8")
    (folder / "bench-servers.conf").write_text(
        "".join(BENCH_SERVER.format(index=i, port=p) for i, p in enumerate(bench_ports)),
        encoding="utf-8",
    )
    targets += [f"bench 127.0.0.1:{port}" for port in bench_ports]
    print("\n".join(targets))


if __name__ == "__main__":
    main()
