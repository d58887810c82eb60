"""Benchmark: mtlslint on a generated 1,000-resource Terraform tree vs python-hcl2 parsing it.

A script, not a test. It writes the tree into a temporary folder (50 modules of 20 resources:
ALB listeners with mutual TLS and trust stores, API Gateway domains, tls provider keys and
certificates, with variables, locals and a tfvars file), then times

  1. ``mtlslint scan`` of the tree in-process (discover, parse, evaluate, map, rules), and
  2. python-hcl2's ``hcl2.loads`` of the same files (parse only; no values, no model),

each in a fresh process so that import costs count. python-hcl2 is not a dependency of mtlslint;
install it to compare (``pip install python-hcl2``). Run:

    .venv/bin/python benchmarks/terraform_bench.py [--modules 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULE = """
variable "env" {{
  default = "prod"
}}

variable "ssl_policy" {{
  default = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
}}

locals {{
  name = "svc{m}-${{var.env}}"
  modes = {{ prod = "verify", dev = "passthrough" }}
}}
"""

RESOURCES = """
resource "aws_lb_trust_store" "ts{i}" {{
  name                             = "${{local.name}}-{i}"
  ca_certificates_bundle_s3_bucket = "bucket-{m}"
  ca_certificates_bundle_s3_key    = "ca/{i}.pem"
}}

resource "aws_lb_listener" "l{i}" {{
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/a/{i}"
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = "arn:aws:acm:eu-west-1:111122223333:certificate/{i}"

  mutual_authentication {{
    mode            = lookup(local.modes, var.env, "verify")
    trust_store_arn = aws_lb_trust_store.ts{i}.arn
  }}

  default_action {{
    type             = "forward"
    target_group_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/t/{i}"
  }}
}}

resource "aws_api_gateway_domain_name" "d{i}" {{
  domain_name              = "${{local.name}}-{i}.example.com"
  regional_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/d{i}"
  security_policy          = var.env == "prod" ? "TLS_1_2" : "TLS_1_0"

  endpoint_configuration {{
    types = ["REGIONAL"]
  }}
}}

resource "tls_private_key" "k{i}" {{
  algorithm = "RSA"
  rsa_bits  = 2048
}}

resource "tls_self_signed_cert" "c{i}" {{
  private_key_pem       = tls_private_key.k{i}.private_key_pem
  validity_period_hours = 2160
  early_renewal_hours   = 720
  allowed_uses          = ["digital_signature", "client_auth"]

  subject {{
    common_name = "client-{i}"
  }}
}}
"""


def generate(root: Path, modules: int) -> int:
    """50 folders x (4 listener+trust store pairs, 4 domains, 4 keys, 4 certs) = 1,000 resources."""
    count = 0
    for m in range(modules):
        folder = root / f"svc{m:03d}"
        folder.mkdir(parents=True)
        (folder / "variables.tf").write_text(textwrap.dedent(MODULE.format(m=m)))
        body = "".join(RESOURCES.format(i=i, m=m) for i in range(4))
        (folder / "main.tf").write_text(body)
        (folder / "terraform.tfvars").write_text('env = "prod"\n')
        count += 20
    return count


def timed(code: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        resources = generate(root, args.modules)
        files = sorted(root.rglob("*.tf"))
        lines = sum(len(p.read_text().splitlines()) for p in files)
        print(f"tree: {resources} resources, {len(files)} .tf files, {lines} lines")
        scan = (
            "from pathlib import Path; from mtlslint.config import Config;"
            "from mtlslint.scan import ScanOptions, run_scan;"
            f"o = run_scan([Path({temp!r})], ScanOptions(config=Config()), cwd=Path({temp!r}));"
            "print(len(o.endpoints), len(o.certificates), len(o.findings))"
        )
        report("mtlslint scan (whole pipeline)", timed(scan, args.repeat))
        try:
            import hcl2  # noqa: F401
        except ImportError:
            print("python-hcl2 not installed: pip install python-hcl2 to compare")
            return
        parse = (
            "import hcl2, pathlib;"
            f"[hcl2.loads(p.read_text()) for p in sorted(pathlib.Path({temp!r}).rglob('*.tf'))]"
        )
        report("python-hcl2 loads (parse only)", timed(parse, args.repeat))


def report(label: str, times: list[float]) -> None:
    print(
        f"{label:34} median {statistics.median(times):6.2f} s  (runs: "
        + ", ".join(f"{t:.2f}" for t in times)
        + ")"
    )


if __name__ == "__main__":
    main()
