"""Write a deterministic benchmark corpus: N files per format, at realistic sizes and mixes.

The tree looks like an infrastructure monorepo::

    services/svc-0001/nginx/nginx.conf          main file: include conf.d/*.conf
    services/svc-0001/nginx/conf.d/*.conf       virtual hosts (mTLS, upstream TLS, locations)
    services/svc-0001/nginx/snippets/tls.conf   shared TLS settings, included by the vhosts
    services/svc-0001/envoy/front-proxy.yaml    bootstrap: listeners with filter chains, clusters
    services/svc-0001/k8s/*.yaml                Deployment+Service, Ingress, cert-manager,
                                                Gateway API, TLS Secrets, ConfigMaps
    mesh/istio-system/peer-authentication.yaml  the mesh-wide policy
    mesh/<namespace>/*.yaml                     PeerAuthentication, AuthorizationPolicy,
                                                DestinationRule, Gateway, ServiceEntry
    terraform/stacks/stack-001/*.tf             AWS listeners and trust stores, API Gateway,
                                                Azure and GCP policies, tls provider resources,
                                                variables, terraform.tfvars, a local module
    pki/team-01/*.pem|*.key                     CA bundles, server chains, client certificates,
                                                private keys

About one object in five carries a mistake (optional client certificates, TLS 1.0, weak
ciphers, unverified upstreams), as real trees do. The same arguments always give the same bytes:
choices come from a seeded ``random.Random``, keys from seeded scalars and every signature is
deterministic (ECDSA per RFC 6979), so runs on different days compare. Scan it with
``--now 2026-06-01T00:00:00Z``.

    python benchmarks/generate_corpus.py OUT --files 10000 [--formats nginx,envoy] [--seed 7]

``--files`` is the total, shared evenly by the formats (``--formats`` defaults to all six).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

FORMATS = ("nginx", "envoy", "istio", "kubernetes", "terraform", "certificates")
CONFIG_FORMATS = ("nginx", "envoy", "istio", "kubernetes")

File = tuple[str, str]  # (path relative to the corpus root, text)


@dataclass(slots=True)
class Summary:
    files: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())


def _pick(rng: random.Random, bad_rate: float, good: str, bad: str) -> str:
    return bad if rng.random() < bad_rate else good


# --- nginx -------------------------------------------------------------------------------------

NGINX_MAIN = """\
# {svc}: edge proxy for the {team} team
user nginx;
worker_processes auto;
pid /run/nginx.pid;

events {{
    worker_connections 2048;
    multi_accept on;
}}

http {{
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    server_tokens off;
    default_type application/octet-stream;

    log_format mtls '$remote_addr [$time_local] "$request" $status '
                    'client="$ssl_client_s_dn" verify=$ssl_client_verify';
    access_log /var/log/nginx/access.log mtls;
    error_log /var/log/nginx/error.log warn;

    ssl_session_cache shared:SSL:20m;
    ssl_session_timeout 1h;
    ssl_session_tickets off;

    include conf.d/*.conf;
}}
"""

NGINX_SNIPPET = """\
# Shared TLS settings for {svc}
ssl_protocols {protocols};
ssl_ciphers {ciphers};
ssl_prefer_server_ciphers on;
ssl_ecdh_curve X25519:prime256v1:secp384r1;
ssl_stapling {stapling};
ssl_stapling_verify {stapling};
resolver 10.0.0.2 valid=300s;
add_header Strict-Transport-Security "max-age=63072000" always;
"""

NGINX_SERVER = """\
server {{
    listen {port} ssl;
    listen [::]:{port} ssl;
    http2 on;
    server_name {host};

    ssl_certificate     /etc/nginx/tls/{name}.crt;
    ssl_certificate_key /etc/nginx/tls/{name}.key;
    include snippets/tls.conf;

    ssl_client_certificate /etc/nginx/tls/{team}-clients-ca.pem;
    ssl_verify_client {verify};
    ssl_verify_depth 2;
{crl}
    client_max_body_size 8m;
    proxy_read_timeout 30s;

    location / {{
{guard}        proxy_pass https://{name}_backend;
        proxy_set_header Host $host;
        proxy_set_header X-Client-DN $ssl_client_s_dn;
        proxy_set_header X-Client-Verify $ssl_client_verify;
        proxy_ssl_certificate     /etc/nginx/tls/{name}-upstream-client.crt;
        proxy_ssl_certificate_key /etc/nginx/tls/{name}-upstream-client.key;
        proxy_ssl_trusted_certificate /etc/nginx/tls/{team}-internal-ca.pem;
        proxy_ssl_verify {upstream_verify};
        proxy_ssl_verify_depth 2;
        proxy_ssl_name {name}.internal.example;
        proxy_ssl_server_name on;
    }}

    location /healthz {{
        access_log off;
        return 200 "ok";
    }}

    location /static/ {{
        root /srv/{name};
        expires 7d;
    }}
}}
"""

NGINX_UPSTREAM = """\
upstream {name}_backend {{
    zone {name}_backend 64k;
    server {name}-1.internal.example:8443 max_fails=3 fail_timeout=10s;
    server {name}-2.internal.example:8443 max_fails=3 fail_timeout=10s;
    keepalive 32;
}}

"""


def nginx_files(rng: random.Random) -> Iterator[File]:
    for site in range(1, 1_000_000):
        svc = f"svc-{site:04d}"
        team = rng.choice(["payments", "identity", "search", "ledger", "catalog", "partners"])
        base = f"services/{svc}/nginx"
        yield f"{base}/nginx.conf", NGINX_MAIN.format(svc=svc, team=team)
        yield (
            f"{base}/snippets/tls.conf",
            NGINX_SNIPPET.format(
                svc=svc,
                protocols=_pick(rng, 0.2, "TLSv1.2 TLSv1.3", "TLSv1 TLSv1.1 TLSv1.2"),
                ciphers=_pick(
                    rng,
                    0.2,
                    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                    "ECDHE-ECDSA-CHACHA20-POLY1305",
                    "HIGH:!aNULL:!MD5:AES256-SHA:DES-CBC3-SHA",
                ),
                stapling=_pick(rng, 0.3, "on", "off"),
            ),
        )
        for vhost in range(rng.randint(2, 4)):
            name = f"{svc}-{rng.choice(['api', 'admin', 'partner', 'grpc', 'web'])}{vhost}"
            servers = []
            for index in range(rng.randint(1, 2)):
                verify = rng.choices(["on", "optional", "optional_no_ca"], [0.75, 0.2, 0.05])[0]
                guard = (
                    "        if ($ssl_client_verify != SUCCESS) { return 403; }\n"
                    if verify == "optional" and rng.random() < 0.5
                    else ""
                )
                servers.append(
                    NGINX_SERVER.format(
                        port=443 + index * 1000,
                        host=f"{name}.{team}.example.com",
                        name=name,
                        team=team,
                        verify=verify,
                        crl=_pick(rng, 0.4, f"    ssl_crl /etc/nginx/tls/{team}-clients.crl;", ""),
                        guard=guard,
                        upstream_verify=_pick(rng, 0.2, "on", "off"),
                    )
                )
            text = f"# {name}: virtual host of {svc}\n" + NGINX_UPSTREAM.format(name=name)
            yield f"{base}/conf.d/{vhost:02d}-{name}.conf", text + "\n".join(servers)


# --- Envoy -------------------------------------------------------------------------------------

ENVOY_HEADER = """\
# {svc}: Envoy front proxy (static bootstrap)
admin:
  address:
    socket_address: {{address: 127.0.0.1, port_value: 9901}}
node:
  id: {svc}
  cluster: {svc}
static_resources:
  listeners:
"""

ENVOY_LISTENER = """\
  - name: {name}
    address:
      socket_address: {{address: 0.0.0.0, port_value: {port}}}
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
    filter_chains:
    - name: {name}-mtls
      filter_chain_match:
        server_names: [{name}.{svc}.example.com]
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: {name}
          codec_type: AUTO
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] %REQ(:PATH)% %RESPONSE_CODE% client=%DOWNSTREAM_PEER_SUBJECT%\\n"
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          route_config:
            name: {name}
            virtual_hosts:
            - name: {name}
              domains: ["*"]
              routes:
              - match: {{prefix: /api/}}
                route: {{cluster: {name}-backend, timeout: 15s}}
              - match: {{prefix: /}}
                route: {{cluster: {name}-web}}
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: {require}
          common_tls_context:
            tls_params:
              tls_minimum_protocol_version: {min_version}
              tls_maximum_protocol_version: TLSv1_3
            tls_certificates:
            - certificate_chain: {{filename: /etc/envoy/certs/{name}.pem}}
              private_key: {{filename: /etc/envoy/certs/{name}.key}}
            validation_context:
              trusted_ca: {{filename: /etc/envoy/certs/clients-ca.pem}}
{crl}{san}"""  # noqa: E501

ENVOY_CLUSTER = """\
  - name: {name}
    type: STRICT_DNS
    connect_timeout: 2s
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{address: {name}.internal.example, port_value: 8443}}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: {name}.internal.example
        common_tls_context:
          tls_certificates:
          - certificate_chain: {{filename: /etc/envoy/certs/upstream-client.pem}}
            private_key: {{filename: /etc/envoy/certs/upstream-client.key}}
{validation}"""

ENVOY_VALIDATION = """\
          validation_context:
            trusted_ca: {{filename: /etc/envoy/certs/internal-ca.pem}}
            match_typed_subject_alt_names:
            - san_type: DNS
              matcher: {{exact: {name}.internal.example}}
"""


def envoy_files(rng: random.Random) -> Iterator[File]:
    for index in range(1, 1_000_000):
        svc = f"svc-{index:04d}"
        listeners = []
        clusters = []
        for n in range(rng.randint(1, 3)):
            name = f"{rng.choice(['public', 'partner', 'internal', 'grpc'])}{n}"
            listeners.append(
                ENVOY_LISTENER.format(
                    name=name,
                    svc=svc,
                    port=8443 + n,
                    require=_pick(rng, 0.2, "true", "false"),
                    min_version=_pick(rng, 0.15, "TLSv1_2", "TLSv1_0"),
                    crl=_pick(
                        rng,
                        0.5,
                        "              crl: {filename: /etc/envoy/certs/clients.crl}\n",
                        "",
                    ),
                    san=_pick(
                        rng,
                        0.3,
                        "              match_typed_subject_alt_names:\n"
                        "              - san_type: URI\n"
                        f"                matcher: {{prefix: 'spiffe://example.org/ns/{svc}/'}}\n",
                        "",
                    ),
                )
            )
            for suffix in ("backend", "web"):
                cluster = f"{name}-{suffix}"
                validation = ENVOY_VALIDATION.format(name=cluster) if rng.random() > 0.2 else ""
                clusters.append(ENVOY_CLUSTER.format(name=cluster, validation=validation))
        text = ENVOY_HEADER.format(svc=svc) + "".join(listeners) + "  clusters:\n"
        text += "".join(clusters)
        if rng.random() < 0.1:
            # A tenth of the fleet keeps its bootstrap as JSON.
            import yaml

            data = yaml.safe_load(text)
            yield f"services/{svc}/envoy/front-proxy.json", json.dumps(data, indent=2) + "\n"
        else:
            yield f"services/{svc}/envoy/front-proxy.yaml", text


# --- Istio -------------------------------------------------------------------------------------

ISTIO_PEER = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: {name}
  namespace: {ns}
spec:
{selector}  mtls:
    mode: {mode}
"""

ISTIO_AUTHZ = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {name}-callers
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {name}
  action: ALLOW
  rules:
  - from:
    - source:
        principals:
        - cluster.local/ns/{caller}/sa/{caller}
        - cluster.local/ns/{ns}/sa/{name}-worker
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/*"]
"""

ISTIO_DR = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}
  namespace: {ns}
spec:
  host: {name}.{ns}.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 30s
    tls:
      mode: {mode}
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
"""

ISTIO_EXTERNAL = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: {name}-partner
  namespace: {ns}
spec:
  hosts: [{name}.partner.example]
  location: MESH_EXTERNAL
  ports:
  - {{number: 443, name: https, protocol: TLS}}
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {name}-partner
  namespace: {ns}
spec:
  host: {name}.partner.example
  trafficPolicy:
    tls:
      mode: MUTUAL
      clientCertificate: /etc/partner/{name}/client.pem
      privateKey: /etc/partner/{name}/client.key
{ca}      sni: {name}.partner.example
"""

ISTIO_GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: {name}-gateway
  namespace: {ns}
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: 443, name: https, protocol: HTTPS}}
    hosts: [{name}.{ns}.example.com]
    tls:
      mode: {mode}
      credentialName: {name}-credential
      minProtocolVersion: {min_version}
{sans}  - port: {{number: 80, name: http, protocol: HTTP}}
    hosts: [{name}.{ns}.example.com]
    tls:
      httpsRedirect: true
"""


def istio_files(rng: random.Random) -> Iterator[File]:
    yield (
        "mesh/istio-system/peer-authentication.yaml",
        ISTIO_PEER.format(name="default", ns="istio-system", selector="", mode="STRICT"),
    )
    for index in range(1, 1_000_000):
        ns = f"ns-{index:04d}"
        apps = [
            f"{rng.choice(['orders', 'ledger', 'users', 'search', 'quotes'])}{n}"
            for n in range(rng.randint(2, 4))
        ]
        peers = []
        for app in apps:
            selector = f"  selector:\n    matchLabels:\n      app: {app}\n"
            mode = rng.choices(["STRICT", "PERMISSIVE", "DISABLE"], [0.8, 0.15, 0.05])[0]
            peers.append(ISTIO_PEER.format(name=app, ns=ns, selector=selector, mode=mode))
        yield f"mesh/{ns}/peer-authentication.yaml", "---\n".join(peers)
        yield (
            f"mesh/{ns}/authorization-policy.yaml",
            "---\n".join(
                ISTIO_AUTHZ.format(name=app, ns=ns, caller=f"ns-{rng.randint(1, 999):04d}")
                for app in apps
                if rng.random() < 0.8
            )
            or ISTIO_AUTHZ.format(name=apps[0], ns=ns, caller="ns-0001"),
        )
        yield (
            f"mesh/{ns}/destination-rules.yaml",
            "---\n".join(
                ISTIO_DR.format(
                    name=app,
                    ns=ns,
                    mode=rng.choices(["ISTIO_MUTUAL", "SIMPLE", "DISABLE"], [0.85, 0.1, 0.05])[0],
                )
                for app in apps
            ),
        )
        if rng.random() < 0.5:
            yield (
                f"mesh/{ns}/partner.yaml",
                ISTIO_EXTERNAL.format(
                    name=apps[0],
                    ns=ns,
                    ca=_pick(
                        rng, 0.25, f"      caCertificates: /etc/partner/{apps[0]}/ca.pem\n", ""
                    ),
                ),
            )
        if rng.random() < 0.5:
            yield (
                f"mesh/{ns}/gateway.yaml",
                ISTIO_GATEWAY.format(
                    name=apps[0],
                    ns=ns,
                    mode=rng.choices(["MUTUAL", "OPTIONAL_MUTUAL", "SIMPLE"], [0.7, 0.15, 0.15])[0],
                    min_version=_pick(rng, 0.15, "TLSV1_2", "TLSV1_0"),
                    sans=_pick(
                        rng,
                        0.4,
                        f"      subjectAltNames: [spiffe://example.org/ns/{ns}/sa/partner]\n",
                        "",
                    ),
                ),
            )


# --- Kubernetes --------------------------------------------------------------------------------

K8S_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {name}
    app.kubernetes.io/part-of: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: {name}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
      - name: app
        image: registry.example.com/{ns}/{name}:1.{replicas}.{port}
        ports:
        - {{name: https, containerPort: 8443}}
        - {{name: metrics, containerPort: 9090}}
        env:
        - {{name: TLS_CERT_FILE, value: /etc/tls/tls.crt}}
        - {{name: TLS_KEY_FILE, value: /etc/tls/tls.key}}
        - {{name: CLIENT_CA_FILE, value: /etc/tls/ca.crt}}
        - {{name: LOG_LEVEL, value: info}}
        resources:
          requests: {{cpu: 100m, memory: 128Mi}}
          limits: {{cpu: "1", memory: 512Mi}}
        readinessProbe:
          httpGet: {{path: /healthz, port: https, scheme: HTTPS}}
          periodSeconds: 10
        livenessProbe:
          httpGet: {{path: /healthz, port: https, scheme: HTTPS}}
          initialDelaySeconds: 15
        volumeMounts:
        - {{name: tls, mountPath: /etc/tls, readOnly: true}}
      volumes:
      - name: tls
        secret:
          secretName: {name}-tls
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - {{name: https, port: 443, targetPort: https}}
"""

K8S_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {ns}
  annotations:
    nginx.ingress.kubernetes.io/auth-tls-secret: {ns}/{name}-client-ca
    nginx.ingress.kubernetes.io/auth-tls-verify-client: "{verify}"
    nginx.ingress.kubernetes.io/auth-tls-verify-depth: "2"
    nginx.ingress.kubernetes.io/auth-tls-pass-certificate-to-upstream: "true"
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-secret: {ns}/{name}-upstream-client
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "{upstream_verify}"
spec:
  ingressClassName: nginx
  tls:
  - hosts: [{name}.{ns}.example.com]
    secretName: {name}-tls
  rules:
  - host: {name}.{ns}.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {{name: {name}, port: {{number: 443}}}}
"""

K8S_CERT_MANAGER = """\
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: {ns}-ca
  namespace: {ns}
spec:
  ca:
    secretName: {ns}-root-ca
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {name}-client
  namespace: {ns}
spec:
  secretName: {name}-client-tls
  commonName: {name}-client
  duration: {duration}
  renewBefore: {renew}
  privateKey:
    algorithm: {algorithm}
    size: {size}
    rotationPolicy: Always
  usages: [digital signature, key encipherment, client auth]
  issuerRef:
    name: {ns}-ca
    kind: Issuer
"""

K8S_GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: {ns}
spec:
  gatewayClassName: example
{frontend}  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: {name}.{ns}.example.com
    tls:
      certificateRefs:
      - {{kind: Secret, name: {name}-tls}}
"""

K8S_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: {name}-client-ca
  namespace: {ns}
type: Opaque
data:
  ca.crt: {ca}
{crl}"""


def kubernetes_files(rng: random.Random) -> Iterator[File]:
    pki = _pki()
    for index in range(1, 1_000_000):
        ns = f"team-{index:04d}"
        name = rng.choice(["orders", "billing", "accounts", "reports", "gateway"]) + str(index)
        base = f"services/{ns}/k8s"
        yield (
            f"{base}/deployment.yaml",
            K8S_DEPLOYMENT.format(
                name=name, ns=ns, replicas=rng.randint(2, 6), port=rng.randint(0, 9)
            ),
        )
        kind = rng.choices(["ingress", "cert", "gateway", "secret"], [0.4, 0.3, 0.15, 0.15])[0]
        if kind == "ingress":
            yield (
                f"{base}/ingress.yaml",
                K8S_INGRESS.format(
                    name=name,
                    ns=ns,
                    verify=rng.choices(["on", "optional", "optional_no_ca"], [0.8, 0.15, 0.05])[0],
                    upstream_verify=_pick(rng, 0.3, "on", "off"),
                ),
            )
        elif kind == "cert":
            yield (
                f"{base}/certificate.yaml",
                K8S_CERT_MANAGER.format(
                    name=name,
                    ns=ns,
                    duration=_pick(rng, 0.2, "2160h", "87600h"),
                    renew=_pick(rng, 0.2, "720h", "24h"),
                    algorithm=rng.choice(["ECDSA", "RSA"]),
                    size=256 if rng.random() < 0.5 else 2048,
                ),
            )
        elif kind == "gateway":
            frontend = (
                "  tls:\n    frontend:\n      default:\n        validation:\n"
                "          caCertificateRefs:\n"
                f'          - {{kind: ConfigMap, group: "", name: {name}-ca}}\n'
            )
            yield (
                f"{base}/gateway.yaml",
                K8S_GATEWAY.format(name=name, ns=ns, frontend=_pick(rng, 0.3, frontend, "")),
            )
        else:
            ca = base64.b64encode(pki.ca_pem.encode()).decode()
            crl = "  ca.crl: " + base64.b64encode(b"-----BEGIN X509 CRL-----\n").decode() + "\n"
            yield (
                f"{base}/client-ca-secret.yaml",
                K8S_SECRET.format(name=name, ns=ns, ca=ca, crl=_pick(rng, 0.5, crl, "")),
            )


# --- Terraform ---------------------------------------------------------------------------------

TF_VARIABLES = """\
variable "environment" {{
  description = "Deployment environment of stack {stack}"
  type        = string
  default     = "prod"
}}

variable "ssl_policy" {{
  description = "TLS policy of the public listeners"
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
}}

variable "mtls_mode" {{
  type    = string
  default = "verify"
}}

variable "tags" {{
  type = map(string)
  default = {{
    team  = "{team}"
    stack = "{stack}"
  }}
}}
"""

TF_LISTENER = """\
resource "aws_lb_trust_store" "{name}" {{
  name                             = "${{local.prefix}}-{name}"
  ca_certificates_bundle_s3_bucket = local.trust_bucket
  ca_certificates_bundle_s3_key    = "ca/{name}.pem"
  tags                             = var.tags
}}

resource "aws_lb_listener" "{name}" {{
  load_balancer_arn = aws_lb.edge.arn
  port              = {port}
  protocol          = "HTTPS"
  ssl_policy        = {policy}
  certificate_arn   = "arn:aws:acm:eu-west-1:111122223333:certificate/{name}"

  mutual_authentication {{
    mode            = {mode}
    trust_store_arn = aws_lb_trust_store.{name}.arn
{expiry}  }}

  default_action {{
    type             = "forward"
    target_group_arn = aws_lb_target_group.{name}.arn
  }}
}}

resource "aws_lb_target_group" "{name}" {{
  name     = "${{local.prefix}}-{name}"
  port     = 8443
  protocol = "HTTPS"
  vpc_id   = "vpc-0123456789abcdef0"

  health_check {{
    path     = "/healthz"
    protocol = "HTTPS"
  }}
}}

"""

TF_MAIN_HEAD = """\
# Stack {stack}: public edge of the {team} team
locals {{
  prefix       = "{team}-${{var.environment}}"
  trust_bucket = "{team}-trust-anchors"
  modes        = {{ prod = "verify", dev = "passthrough" }}
}}

resource "aws_lb" "edge" {{
  name               = "${{local.prefix}}-edge"
  load_balancer_type = "application"
  internal           = false
  subnets            = ["subnet-0a", "subnet-0b"]
  tags               = var.tags
}}

"""

TF_APIGW = """\
resource "aws_api_gateway_domain_name" "{name}" {{
  domain_name              = "{name}.${{local.prefix}}.example.com"
  regional_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/{name}"
  security_policy          = {policy}

  endpoint_configuration {{
    types = ["REGIONAL"]
  }}

  mutual_tls_authentication {{
    truststore_uri = "s3://${{local.trust_bucket}}/ca/{name}.pem"
  }}
}}

"""

TF_TLS = """\
resource "tls_private_key" "{name}" {{
  algorithm   = "{algorithm}"
  rsa_bits    = {bits}
  ecdsa_curve = "P256"
}}

resource "tls_self_signed_cert" "{name}" {{
  private_key_pem       = tls_private_key.{name}.private_key_pem
  validity_period_hours = {hours}
  early_renewal_hours   = {renew}
  allowed_uses          = ["digital_signature", "key_encipherment", "{usage}"]

  subject {{
    common_name  = "{name}.internal.example"
    organization = "Example Corp"
  }}
}}

"""

TF_MODULE_CALL = """\
module "edge_{index}" {{
  source          = "../../modules/edge-{group}"
  mode            = {mode}
  trust_store_arn = aws_lb_trust_store.{name}.arn
}}

"""

TF_MODULE = """\
variable "mode" {{
  default = "verify"
}}

variable "trust_store_arn" {{
  type = string
}}

resource "aws_lb_listener" "internal" {{
  load_balancer_arn = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/internal/{group}"
  port              = 8443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = "arn:aws:acm:eu-west-1:111122223333:certificate/internal-{group}"

  mutual_authentication {{
    mode            = var.mode
    trust_store_arn = var.trust_store_arn
  }}

  default_action {{
    type             = "fixed-response"
    fixed_response {{
      content_type = "text/plain"
      status_code  = "404"
    }}
  }}
}}
"""  # noqa: E501


def terraform_files(rng: random.Random) -> Iterator[File]:
    for index in range(1, 1_000_000):
        stack = f"stack-{index:04d}"
        team = rng.choice(["payments", "identity", "search", "ledger", "catalog"])
        group = (index - 1) // 20
        base = f"terraform/stacks/{stack}"
        if (index - 1) % 20 == 0:
            yield f"terraform/modules/edge-{group}/main.tf", TF_MODULE.format(group=group)
        yield f"{base}/variables.tf", TF_VARIABLES.format(stack=stack, team=team)
        main = TF_MAIN_HEAD.format(stack=stack, team=team)
        names = [f"{rng.choice(['public', 'partner', 'b2b'])}{n}" for n in range(rng.randint(1, 3))]
        for n, name in enumerate(names):
            main += TF_LISTENER.format(
                name=name,
                port=443 + n,
                policy=_pick(rng, 0.2, "var.ssl_policy", '"ELBSecurityPolicy-2016-08"'),
                mode=_pick(rng, 0.2, 'lookup(local.modes, var.environment, "verify")', '"off"'),
                expiry=_pick(rng, 0.1, "", "    ignore_client_certificate_expiry = true\n"),
            )
        if rng.random() < 0.3:
            main += TF_MODULE_CALL.format(
                index=index, group=group, name=names[0], mode=_pick(rng, 0.3, '"verify"', '"off"')
            )
        yield f"{base}/main.tf", main
        apis = "".join(
            TF_APIGW.format(
                name=f"api{n}",
                policy=_pick(
                    rng, 0.2, '"TLS_1_2"', 'var.environment == "prod" ? "TLS_1_2" : "TLS_1_0"'
                ),
            )
            for n in range(rng.randint(1, 2))
        )
        yield f"{base}/apigateway.tf", apis
        tls = "".join(
            TF_TLS.format(
                name=f"client{n}",
                algorithm=rng.choice(["RSA", "ECDSA"]),
                bits=_pick(rng, 0.15, "2048", "1024"),
                hours=_pick(rng, 0.2, "2160", "87600"),
                renew=_pick(rng, 0.2, "720", "24"),
                usage=rng.choice(["client_auth", "server_auth"]),
            )
            for n in range(rng.randint(1, 3))
        )
        yield f"{base}/tls.tf", tls
        yield (
            f"{base}/terraform.tfvars",
            (
                f'environment = "{rng.choice(["prod", "dev"])}"\n'
                f'ssl_policy  = "{_pick(rng, 0.2, "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS-1-0-2015-04")}"\n'  # noqa: E501
            ),
        )


# --- certificates ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pki:
    ca_pem: str
    make_leaf: Callable[[str, bool, int], tuple[str, str]]


@lru_cache(maxsize=1)
def _pki() -> Pki:
    """A private CA (EC P-384) and a factory of leaf certificates and keys, all deterministic."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def scalar(label: str) -> int:
        return int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (2**250) + 1

    ca_key = ec.derive_private_key(scalar("ca"), ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Benchmark Internal CA")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    leaf_start = datetime(2026, 4, 15, tzinfo=UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(datetime(2036, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .sign(ca_key, hashes.SHA384(), ecdsa_deterministic=True)
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()

    def make_leaf(name: str, client: bool, days: int) -> tuple[str, str]:
        key = ec.derive_private_key(scalar(name), ec.SECP256R1())
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        serial = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(leaf_start)
            .not_valid_after(datetime.fromtimestamp(leaf_start.timestamp() + days * 86400, UTC))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca_key, hashes.SHA256(), ecdsa_deterministic=True)
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem

    return Pki(ca_pem, make_leaf)


def certificate_files(rng: random.Random) -> Iterator[File]:
    pki = _pki()
    for index in range(1, 1_000_000):
        team = f"team-{index:03d}"
        base = f"pki/{team}"
        yield f"{base}/ca-bundle.pem", pki.ca_pem
        for n in range(rng.randint(2, 5)):
            client = rng.random() < 0.5
            name = f"{'client' if client else 'server'}-{n}.{team}.internal.example"
            days = rng.choice([90, 90, 90, 397, 3650])
            cert, key = pki.make_leaf(name, client, days)
            stem = f"{'client' if client else 'server'}-{n}"
            if client:
                yield f"{base}/{stem}.pem", cert
            else:
                yield f"{base}/{stem}-chain.pem", cert + pki.ca_pem
            if rng.random() < 0.15:
                yield f"{base}/keys/{stem}.key", key


GENERATORS: dict[str, Callable[[random.Random], Iterator[File]]] = {
    "nginx": nginx_files,
    "envoy": envoy_files,
    "istio": istio_files,
    "kubernetes": kubernetes_files,
    "terraform": terraform_files,
    "certificates": certificate_files,
}


def generate(out: Path, files: int, formats: Sequence[str] = FORMATS, seed: int = 7) -> Summary:
    """Write ``files`` files in all, shared evenly by ``formats``, under ``out`` (emptied first)."""
    if out.exists():
        shutil.rmtree(out)
    summary = Summary()
    for position, fmt in enumerate(formats):
        quota = files // len(formats) + (1 if position < files % len(formats) else 0)
        rng = random.Random(f"{seed}:{fmt}")
        written = 0
        size = 0
        for relative, text in GENERATORS[fmt](rng):
            if written >= quota:
                break
            path = out / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode()
            path.write_bytes(data)
            written += 1
            size += len(data)
        summary.files[fmt] = written
        summary.bytes[fmt] = size
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="folder to write (emptied first)")
    parser.add_argument("--files", type=int, default=1000, help="files in all")
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help=f"comma-separated subset of {FORMATS}"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s): {', '.join(unknown)}")
    summary = generate(args.out, args.files, formats, args.seed)
    for fmt in formats:
        print(f"{fmt:13} {summary.files[fmt]:7,} files {summary.bytes[fmt] / 1e6:8.2f} MB")
    print(f"{'total':13} {summary.total_files:7,} files {summary.total_bytes / 1e6:8.2f} MB")


if __name__ == "__main__":
    main()
