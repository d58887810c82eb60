"""From matched records to differences: which environment is weaker, and how severe that is.

One :class:`Difference` per record and attribute whose environments disagree. The weaker
environment is the one no other environment is weaker than and that is weaker than at least one;
when several share the weakest value, the latest on the command line is named (it is the one
closest to production in ``dev staging prod``); when the values are unordered (two different
CAs), there is none.

Severity follows the order given on the command line: the rule's severity when the weaker
environment comes *after* one that is stronger (hardening lost on the way to production), one
step lower otherwise (the earlier environments are the weaker ones, or none is clearly weaker).
An endpoint missing from some environments (MTLS706) has no weaker side and keeps the rule's
severity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations

from mtlslint.drift.attributes import ATTRIBUTES, Attribute, JsonValue, Observation
from mtlslint.drift.identity import match
from mtlslint.drift.loading import LoadedEnvironment
from mtlslint.engine import Rule, fingerprint
from mtlslint.model import SEVERITIES, Certificate, Finding, Location, Severity, TlsEndpoint

ENDPOINT_MISSING = "MTLS706"
_FIELD = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Difference:
    """One attribute of one endpoint or certificate that differs between environments.

    ``values`` and ``locations`` are keyed by environment name in command-line order; a value is
    ``None`` where the record is absent or the attribute does not apply. ``location`` is where
    the finding points: the weaker environment's line, else the latest environment's.
    """

    rule_id: str
    slug: str
    title: str
    severity: Severity
    resource: str
    format: str
    attribute: str
    values: Mapping[str, JsonValue]
    shown: Mapping[str, str]
    weaker: str | None
    locations: Mapping[str, Location]
    location: Location
    message: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.location, self.resource, self.attribute)

    def finding(self) -> Finding:
        """The difference as a finding, for reporters that know findings only."""
        return Finding(
            rule_id=self.rule_id,
            slug=self.slug,
            severity=self.severity,
            title=self.title,
            message=self.message,
            location=self.location,
            resource=self.resource,
            format=self.format,
            fingerprint=self.fingerprint,
        )


def lower(severity: Severity) -> Severity:
    """One step less severe (``info`` stays ``info``)."""
    return SEVERITIES[min(SEVERITIES.index(severity) + 1, len(SEVERITIES) - 1)]


def weakest(attribute: Attribute, observed: Mapping[str, Observation]) -> str | None:
    """The weaker environment: weaker than some, stronger than none, comparable with all.

    ``observed`` is in command-line order; among equally weak environments the latest wins.
    """
    found = None
    for name, mine in observed.items():
        results = [attribute.compare(mine, other) for n, other in observed.items() if n != name]
        if all(r is not None and r <= 0 for r in results) and any(
            r is not None and r < 0 for r in results
        ):
            found = name
    return found


def severity_of(
    base: Severity, attribute: Attribute, observed: Mapping[str, Observation], weaker: str | None
) -> Severity:
    """``base`` when an environment before the weaker one is stronger; else one step lower."""
    if weaker is None:
        return lower(base)
    names = list(observed)
    before = names[: names.index(weaker)]
    regressed = any(
        (attribute.compare(observed[weaker], observed[name]) or 0) < 0 for name in before
    )
    return base if regressed else lower(base)


@dataclass(frozen=True, slots=True)
class Drift:
    """The outcome of a comparison: the differences, and how many records took part."""

    differences: list[Difference]
    endpoints: int
    certificates: int


def compare_environments(
    environments: Sequence[LoadedEnvironment],
    rules: Mapping[str, Rule],
    severity_overrides: Mapping[str, Severity] | None = None,
) -> Drift:
    """Every difference between ``environments`` (in command-line order) the drift rules report.

    Endpoints come first (a missing one, then its attributes), then certificates; each sorted by
    identity.
    """
    return _Comparer(environments, rules, severity_overrides).run()


class _Comparer:
    def __init__(
        self,
        environments: Sequence[LoadedEnvironment],
        rules: Mapping[str, Rule],
        severity_overrides: Mapping[str, Severity] | None,
    ) -> None:
        self.environments = {env.name: env for env in environments}
        self.order = [env.name for env in environments]
        self.rules = rules
        self.overrides = dict(severity_overrides or {})

    def run(self) -> Drift:
        found: list[Difference] = []
        endpoints = match({n: e.endpoints for n, e in self.environments.items()}, key=_id)
        for resource, records in endpoints.items():
            if len(records) < len(self.order):
                found.extend(self._missing(resource, records))
            found.extend(self._compare(resource, records, "endpoint"))
        certificates = match({n: e.certificates for n, e in self.environments.items()}, key=_id)
        for resource, certs in certificates.items():
            found.extend(self._compare(resource, certs, "certificate"))
        return Drift(found, endpoints=len(endpoints), certificates=len(certificates))

    def _base(self, rule: Rule) -> Severity:
        return self.overrides.get(rule.id, rule.severity)

    def _missing(self, resource: str, records: Mapping[str, TlsEndpoint]) -> list[Difference]:
        rule = self.rules.get(ENDPOINT_MISSING)
        if rule is None:
            return []
        present = [name for name in self.order if name in records]
        absent = [name for name in self.order if name not in records]
        values: dict[str, JsonValue] = {
            name: "present" if name in records else "absent" for name in self.order
        }
        locations = {name: records[name].location for name in present}
        fields = {
            "resource": resource,
            "attribute": "endpoint",
            "present": _words(present, "and"),
            "absent": _words(absent, "or"),
            "values": _listing({n: str(v) for n, v in values.items()}),
            "weaker": "none",
            "verdict": f"missing from {_words(absent, 'and')}",
        }
        return [
            Difference(
                rule_id=rule.id,
                slug=rule.slug,
                title=rule.title,
                severity=self._base(rule),
                resource=resource,
                format=records[present[-1]].format,
                attribute="endpoint",
                values=values,
                shown={n: str(v) for n, v in values.items()},
                weaker=None,
                locations=locations,
                location=locations[present[-1]],
                message=_render(rule.message, fields),
            )
        ]

    def _compare(
        self,
        resource: str,
        records: Mapping[str, TlsEndpoint] | Mapping[str, Certificate],
        kind: str,
    ) -> list[Difference]:
        found = []
        for attribute in ATTRIBUTES:
            if attribute.applies_to != kind:
                continue
            rule = self.rules.get(attribute.rule_id)
            if rule is None:
                continue
            difference = self._attribute(rule, attribute, resource, records)
            if difference is not None:
                found.append(difference)
        return found

    def _attribute(
        self,
        rule: Rule,
        attribute: Attribute,
        resource: str,
        records: Mapping[str, TlsEndpoint] | Mapping[str, Certificate],
    ) -> Difference | None:
        observed: dict[str, Observation] = {}
        for name in self.order:
            record = records.get(name)
            if record is None:
                continue
            env = self.environments[name]
            seen = attribute.observe(record, env)
            if seen is not None:
                observed[name] = replace(seen, location=env.refine_location(seen.location))
        if len(observed) < 2 or all(
            attribute.same(observed[a], observed[b]) for a, b in combinations(observed, 2)
        ):
            return None
        weaker = weakest(attribute, observed)
        severity = severity_of(self._base(rule), attribute, observed, weaker)
        values = {n: observed[n].value if n in observed else None for n in self.order}
        shown = {n: attribute.display(v) for n, v in values.items()}
        locations = {n: obs.location for n, obs in observed.items()}
        fields = {
            "resource": resource,
            "attribute": attribute.name,
            "values": _listing(shown),
            "weaker": weaker or "none",
            "verdict": f"{weaker} is weaker" if weaker else "no environment is clearly weaker",
        }
        latest = next(iter(reversed(observed)))
        return Difference(
            rule_id=rule.id,
            slug=rule.slug,
            title=rule.title,
            severity=severity,
            resource=resource,
            format=records[latest].format,
            attribute=attribute.name,
            values=values,
            shown=shown,
            weaker=weaker,
            locations=locations,
            location=locations[weaker or latest],
            message=_render(rule.message, fields),
        )


def _id(record: TlsEndpoint | Certificate) -> str:
    return record.id


def _listing(shown: Mapping[str, str]) -> str:
    """``dev: optional; staging: required; prod: required``."""
    return "; ".join(f"{name}: {value}" for name, value in shown.items())


def _words(names: Sequence[str], conjunction: str) -> str:
    """``dev``, ``dev and prod``, ``dev, staging and prod``."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def _render(template: str, fields: Mapping[str, str]) -> str:
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), template)
