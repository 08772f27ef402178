"""Wazuh agents (``GET /agents``) as ``asset`` records.

An agent (spec.yaml ``components.schemas.Agent``) has ``id`` ("001"), ``name``, ``status``
(``active``, ``pending``, ``never_connected``, ``disconnected``: ``AgentStatus``),
``lastKeepAlive``, ``dateAdd``, ``group`` (a list), ``os`` (``platform``, ``name``,
``version``, ``uname``...), ``version`` ("Wazuh v4.7.5"), ``ip``, ``node_name``. Fields an agent
lacks are left out of the answer (a never-connected agent has no ``os`` nor ``lastKeepAlive``).

* Subject ``wazuh:<server>:agent:<id>``; origin ``wazuh/<server>/agents/<id>``, so a failure
  reading one agent's inventory leaves that agent, and only it, without evidence.
* ``asset_kind``, by this rule, first match wins: the entry's ``asset_kind_by_group`` (a group
  of the agent named there); agent 000 (the manager itself) ``server``; Windows ``server`` when
  ``os.name`` says "Server", else ``workstation``; macOS (``darwin``) ``workstation``; any
  other known OS (Linux, BSD, Solaris, AIX, HP-UX) ``server``; no OS known (never connected)
  the entry's ``default_asset_kind`` (``server``): in scope, and ``no_evidence``, rather than
  out of sight.
* Facts: ``os`` is ``os.platform`` as Wazuh spells it (``windows``, ``ubuntu``, ``rhel``,
  ``darwin``), ``os_family`` ``windows`` / ``linux`` / ``macos`` / ``unix``, ``os_name``,
  ``os_version``, ``groups`` (a list: ``facts: {groups: web}`` scopes by group), ``status``,
  ``last_seen`` (``lastKeepAlive``; now for the manager, whose stored value is 9999-12-31).
* Tags: the entry's ``tags``, ``wazuh_server``, ``wazuh_status``, ``wazuh_os`` (platform),
  ``wazuh_groups`` (sorted, joined by `` | ``) and ``wazuh_group_<name>: "true"`` per group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clausewatch.collectors.wazuh.model import MANAGER_ID, NEVER, text, wazuh_time

STATUSES = ("active", "pending", "never_connected", "disconnected")
#: The fields asked for with ``select`` (``id`` is always returned).
SELECT = ("name,status,lastKeepAlive,dateAdd,group,os.platform,os.name,os.version,os.uname,"
          "version,ip,node_name")
GROUP_SEPARATOR = " | "
UNIX = frozenset({"sunos", "solaris", "aix", "hp-ux", "hpux", "freebsd", "openbsd", "netbsd",
                  "bsd"})


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent as listed, with the page it came from."""

    id: str
    name: str
    status: str
    last_keep_alive: datetime | None
    date_add: datetime | None
    groups: tuple[str, ...]
    platform: str | None
    os_name: str | None
    os_version: str | None
    uname: str | None
    version: str | None
    ref: str
    raw_status: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_manager(self) -> bool:
        return self.id == MANAGER_ID

    @property
    def family(self) -> str | None:
        platform = (self.platform or "").lower()
        if platform == "windows" or "windows" in (self.os_name or "").lower():
            return "windows"
        if platform == "darwin" or "macos" in (self.os_name or "").lower():
            return "macos"
        if platform in UNIX:
            return "unix"
        if (self.uname or "").lower().startswith("linux") or platform:
            return "linux"
        return None

    def seen_at(self, as_of: datetime) -> datetime | None:
        """The last keep-alive, at most ``as_of`` (the manager's 9999-12-31 means "now")."""
        if self.last_keep_alive is None:
            return None
        if self.last_keep_alive >= NEVER or self.last_keep_alive > as_of:
            return as_of
        return self.last_keep_alive


def parse_agent(item: Mapping[str, Any], ref: str) -> Agent | None:
    """The agent of one item of ``data.affected_items``; None without an id."""
    agent_id = text(item.get("id"))
    if agent_id is None:
        return None
    found = item.get("os")
    os: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    groups = item.get("group")
    status = text(item.get("status"))
    return Agent(
        id=agent_id,
        name=text(item.get("name")) or agent_id,
        status=status.lower() if status else "",
        last_keep_alive=wazuh_time(item.get("lastKeepAlive")),
        date_add=wazuh_time(item.get("dateAdd")),
        groups=tuple(sorted(g for g in groups if isinstance(g, str))) if isinstance(
            groups, list) else (),
        platform=text(os.get("platform")),
        os_name=text(os.get("name")),
        os_version=text(os.get("version")),
        uname=text(os.get("uname")),
        version=text(item.get("version")),
        ref=ref,
        raw_status=item.get("status"),
        extra={k: item[k] for k in ("ip", "node_name") if k in item},
    )


def asset_kind(agent: Agent, by_group: Mapping[str, str], default: str) -> str:
    """The asset kind by the documented rule (module docstring)."""
    for group in agent.groups:
        if group in by_group:
            return by_group[group]
    if agent.is_manager:
        return "server"
    family = agent.family
    if family == "windows":
        return "server" if "server" in (agent.os_name or "").lower() else "workstation"
    if family == "macos":
        return "workstation"
    return "server" if family else default


def agent_tags(agent: Agent, server: str, tags: Mapping[str, str]) -> dict[str, str]:
    out = {**tags, "wazuh_server": server, "wazuh_status": agent.status,
           "wazuh_os": agent.platform or "", "wazuh_groups": GROUP_SEPARATOR.join(agent.groups)}
    for group in agent.groups:
        out[f"wazuh_group_{group}"] = "true"
    return out


def agent_facts(agent: Agent, server: str, tags: Mapping[str, str], kind: str,
                as_of: datetime) -> dict[str, Any]:
    """The asset facts of an agent, before its patch assessment is known."""
    return {
        "asset_kind": kind,
        "name": agent.name,
        "tags": agent_tags(agent, server, tags),
        "os": agent.platform,
        "os_family": agent.family,
        "os_name": agent.os_name,
        "os_version": agent.os_version,
        "groups": list(agent.groups),
        "status": agent.status or None,
        "last_seen": agent.seen_at(as_of),
        "registered_at": agent.date_add,
        "agent_id": agent.id,
        "agent_version": agent.version,
        "wazuh_manager": agent.is_manager,
        **agent.extra,
    }
