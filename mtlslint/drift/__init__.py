"""The parts of ``mtlslint diff``, each with one job.

- :mod:`~mtlslint.drift.environments`: which folders and Terraform var files an environment name
  stands for;
- :mod:`~mtlslint.drift.identity`: the identity of an endpoint or certificate across
  environments (its ID with the environment's name taken out);
- :mod:`~mtlslint.drift.attributes`: the security attributes compared and the order of strength
  of each;
- :mod:`~mtlslint.drift.compare`: from matched records to differences (weaker environment,
  severity, message);
- :mod:`~mtlslint.drift.report`: the differences as a :class:`DiffReport`, and as findings for
  the SARIF and GitHub reporters.

:mod:`mtlslint.diff` runs them in order. Nothing here is imported unless ``mtlslint diff`` runs.
"""
