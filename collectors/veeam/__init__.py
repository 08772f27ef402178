"""Veeam Backup & Replication (REST API v1), on the REST kit (``collectors/rest``).

``source`` (the sources-file entry and ``build``), ``auth`` (password grant, refresh on a 401,
``x-api-version``), ``api`` (paths by revision, skip/limit pages), ``timestamps`` (times to
UTC, the server's time zone), ``model`` (enums across revisions), ``inventory`` (jobs and
protected objects as assets), ``records`` (sessions and restore points as backups and restore
tests) and ``collector`` (the reads, in order, and what a failure bears on). docs/veeam.md.
"""
