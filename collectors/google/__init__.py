"""What every Google source shares: credentials, endpoints, the bounded retry, pages, errors.

``credentials`` (ADC, a key file named by an environment variable, service-account
impersonation, a domain-wide delegation subject), ``endpoints`` (an override for every API),
``retry`` (google-api-core ``Retry`` bounded by time, attempts per request and a budget shared
by an entry's collectors), ``pages`` (every page read whole, kept raw, as Google's JSON),
``errors`` (any failure as a ``CollectionError``), ``clients`` (the client libraries, imported
only when a collector needs them), ``directory`` and ``workspace_user`` (the Admin SDK
Directory API and what a Directory user says about 2-Step Verification, read by both the
``workspace`` and the ``gcp`` sources).
"""
