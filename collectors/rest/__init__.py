"""The kit REST sources are built on (Veeam, Defender for Endpoint, Wazuh, Google's plain REST).

One module, one job: ``client`` (the httpx client: timeouts, TLS, proxies, User-Agent),
``auth`` (bearer tokens refreshed once on a 401), ``retry`` (Retry-After-aware, bounded by
attempts and time), ``session`` (a client and its retry: JSON or an error), ``paging`` (the
paging schemes, never a partial list that looks whole), ``errors`` (the typed failures) and
``mapper`` (failure -> ``CollectionError``). docs/rest-kit.md shows a source module using them.
"""
