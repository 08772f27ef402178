"""Wazuh 4.x: agents, syscollector inventory and vulnerabilities, as asset and patch evidence.

``source`` (the ``wazuh`` section of the sources file), ``auth`` (the server API's JWT),
``api`` (the server API's offset/limit lists), ``indexer`` (the vulnerability-state index of
Wazuh >= 4.8), ``agents`` (agents as assets), ``vulns`` (vulnerabilities as patch facts),
``collector`` (one server's collection). docs/wazuh.md documents what is read and why.
"""
