"""Loading one environment's model with the scan pipeline, and what the comparison asks of it.

Each environment is loaded by :func:`mtlslint.scan.run_scan` over its folders, with its own
Terraform var files, so the model is exactly what ``mtlslint scan`` sees there: defaults applied,
includes and variables resolved, certificate files linked. Findings of the scan are not kept,
except parse errors (MTLS900): a file that cannot be read in one environment would otherwise look
like endpoints missing from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from mtlslint.config import Config
from mtlslint.discover import display_path
from mtlslint.drift.environments import Environment
from mtlslint.engine import LineReader
from mtlslint.model import Certificate, Finding, Location, TlsEndpoint
from mtlslint.sources import Source

_VARIABLE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass(slots=True)
class LoadedEnvironment:
    """An environment's endpoints and certificates, and the files they came from."""

    environment: Environment
    endpoints: list[TlsEndpoint]
    certificates: list[Certificate]
    sources: list[Source]
    parse_errors: list[Finding] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    cwd: Path = field(default_factory=Path.cwd)
    lines: LineReader = field(default_factory=LineReader)
    _digests: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.environment.name

    def trust_fingerprint(self, endpoint: TlsEndpoint, ref: str) -> str | None:
        """A digest of the CA certificates in the file ``ref`` names, if the scan read it.

        The file is found as the scan links certificates (relative to the config that names it,
        else by the path's tail); the digest covers the certificates' SHA-256 fingerprints, so
        comments and re-encoding do not change it.
        """
        from mtlslint.enrich.cert_links import resolve_reference

        config = next((s for s in self.sources if s.display == endpoint.location.file), None)
        candidates = [s for s in self.sources if s.format == "certificate"]
        found = resolve_reference(ref, config, candidates)
        if found is None:
            return None
        if found.display not in self._digests:
            prints = sorted(
                c.fingerprint_sha256
                for c in self.certificates
                if c.location.file == found.display and c.fingerprint_sha256
            )
            digest = hashlib.sha256("\n".join(prints).encode()).hexdigest()[:8]
            self._digests[found.display] = digest if prints else None
        return self._digests[found.display]

    def refine_location(self, location: Location) -> Location:
        """Point a Terraform value that comes from this environment's var file at that file.

        ``mode = var.mtls_mode`` in a folder all environments share is the same line everywhere;
        the line that differs is ``mtls_mode = "passthrough"`` in ``env/dev.tfvars``.
        """
        if not self.environment.var_files or not location.file.endswith((".tf", ".tf.json")):
            return location
        names = set(_VARIABLE.findall(self.lines(location)))
        if len(names) != 1:
            return location
        assignment = re.compile(rf"^\s*\"?{re.escape(names.pop())}\"?\s*[=:]")
        found = location
        for var_file in self.environment.var_files:  # a later file wins, as in Terraform
            try:
                lines = var_file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for number, line in enumerate(lines, start=1):
                if assignment.match(line):
                    found = Location(display_path(var_file.resolve(), self.cwd.resolve()), number)
        return found


def load_environment(
    environment: Environment,
    config: Config,
    *,
    cwd: Path,
    now: datetime,
    progress: Callable[[str], None] | None = None,
) -> LoadedEnvironment:
    """Scan the environment's folders (with its var files) and keep the model.

    The configuration's own ``var_files`` are read first, so the environment's values win.
    """
    from mtlslint.scan import ScanOptions, run_scan

    base = config.source.parent if config.source is not None else cwd
    shared = tuple(p if p.is_absolute() else base / p for p in map(Path, config.var_files))
    options = ScanOptions(
        config=replace(config, var_files=()),
        now=now,
        var_files=(*shared, *environment.var_files),
    )
    if progress:
        progress(f"loading {environment.name}")
    outcome = run_scan(list(environment.paths), options, cwd=cwd)
    return LoadedEnvironment(
        environment=environment,
        endpoints=list(outcome.endpoints),
        certificates=list(outcome.certificates),
        sources=list(outcome.discovery.sources),
        parse_errors=[f for f in outcome.findings if f.rule_id == "MTLS900"],
        errors=list(outcome.errors),
        cwd=cwd,
        lines=LineReader({s.display: s.text for s in outcome.discovery.sources}),
    )
