"""The resource hierarchy: an organisation, its folders and its projects (Resource Manager v3).

Discovery walks down from the organisation with ``folders.list`` and ``projects.list`` per
parent (direct children only, strongly consistent; ``projects.search`` is eventually
consistent and ORs the fields of a query). ``list`` returns ACTIVE resources unless
``showDeleted``; a DELETE_REQUESTED one that still appears is kept aside as *being deleted*:
reported, not judged, and not walked into. With an explicit project list, each project's
ancestors are climbed with ``projects.get`` and ``folders.get`` so their IAM policies can be
inherited.

A listing that fails is a :class:`Gap` (the parent whose children are unknown, the error), never
a shorter hierarchy that looks whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.google.clients import ResourceManager
from clausewatch.collectors.google.errors import GOOGLE_FAILURES
from clausewatch.collectors.google.pages import Json, PageSink, gapic_pages, message_dict
from clausewatch.collectors.google.retry import RetrySettings

ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class Node:
    """An organisation, folder or project: ``name`` is ``organizations/N``, ``folders/N`` or
    ``projects/NUMBER``; ``parent`` is the parent's name (None at the top)."""

    name: str
    parent: str | None
    display_name: str
    state: str
    project_id: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    raw_ref: str = ""

    @property
    def kind(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def resource(self) -> str:
        """The name ``getIamPolicy`` takes: ``projects/<project id>`` for a project."""
        return f"projects/{self.project_id}" if self.project_id else self.name

    @property
    def label(self) -> str:
        if self.project_id:
            return self.project_id
        return f"{self.name} ({self.display_name})" if self.display_name else self.name


@dataclass(frozen=True, slots=True)
class Gap:
    """A part of the hierarchy that could not be read: ``under`` is the node name."""

    under: str
    operation: str
    error: BaseException


@dataclass
class Hierarchy:
    """The nodes found, by name; projects being deleted; what could not be read."""

    root: str  # the label of origins: the organisation id, or the entry's name
    nodes: dict[str, Node] = field(default_factory=dict)
    deleting: list[Node] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    @property
    def projects(self) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.kind == "projects"),
                      key=lambda n: n.project_id or n.name)

    def ancestors(self, node: Node) -> list[Node]:
        """``node`` and the nodes above it, nearest first (stops at an unknown parent)."""
        chain = [node]
        seen = {node.name}
        parent = node.parent
        while parent and parent in self.nodes and parent not in seen:
            seen.add(parent)
            chain.append(self.nodes[parent])
            parent = self.nodes[parent].parent
        return chain

    def project_origin(self, node: Node) -> str:
        return f"gcp/{self.root}/{node.project_id}"

    def node_origin(self, name: str) -> str:
        """Where a failure about ``name`` lies: ``gcp/<root>/<project id>`` for a project,
        ``gcp/<root>/folders/N`` or ``gcp/<root>/organizations/N`` otherwise. None of these is
        the identities' own origin (``gcp/<root>``): a policy that cannot be read leaves its
        unknown holders without evidence, not the holders already known elsewhere."""
        node = self.nodes.get(name)
        if node is not None and node.project_id:
            return self.project_origin(node)
        if name.startswith("projects/"):  # an explicit project that could not be read
            return f"gcp/{self.root}/{name.split('/', 1)[1]}"
        return f"gcp/{self.root}/{name}"


def _node(doc: Json, ref: str) -> Node:
    labels = doc.get("labels") or {}
    return Node(
        name=str(doc.get("name")),
        parent=str(doc["parent"]) if doc.get("parent") else None,
        display_name=str(doc.get("displayName") or ""),
        state=_state(doc.get("state")),
        project_id=str(doc["projectId"]) if doc.get("projectId") else None,
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        raw_ref=ref,
    )


def _state(value: Any) -> str:
    """An enum read from JSON: a name, or the number the GAPIC clients may get back."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return {0: "STATE_UNSPECIFIED", 1: ACTIVE, 2: "DELETE_REQUESTED"}.get(int(value), "?")
    return str(value or "STATE_UNSPECIFIED")


@dataclass(frozen=True, slots=True)
class Discovery:
    """Reads the hierarchy with the Resource Manager clients."""

    rm: ResourceManager
    sink: PageSink
    retry: RetrySettings
    exclude: frozenset[str] = frozenset()

    def organisation(self, org_id: str) -> Hierarchy:
        """The organisation and everything under it."""
        tree = Hierarchy(root=org_id)
        org = f"organizations/{org_id}"
        try:
            got = self.rm.organizations.get_organization(
                name=org, retry=self.retry.retry(), timeout=self.retry.request_timeout)
            body = message_dict(got)
            tree.nodes[org] = _node(body, self.sink.save("organizations-get", body))
        except GOOGLE_FAILURES as exc:
            tree.gaps.append(Gap(org, "organizations.get", exc))
            return tree
        todo = [org]
        while todo:
            parent = todo.pop(0)
            for kind, children in (("folders", self._folders), ("projects", self._projects)):
                try:
                    found = children(parent)
                except GOOGLE_FAILURES as exc:
                    tree.gaps.append(Gap(parent, f"{kind}.list", exc))
                    continue
                for node in found:
                    if node.project_id and node.project_id in self.exclude:
                        continue
                    if node.state != ACTIVE:
                        tree.deleting.append(node)
                        continue
                    tree.nodes[node.name] = node
                    if kind == "folders":
                        todo.append(node.name)
        return tree

    def projects(self, root: str, project_ids: Iterable[str]) -> Hierarchy:
        """Explicit projects and their ancestors."""
        tree = Hierarchy(root=root)
        for project_id in project_ids:
            name = f"projects/{project_id}"
            try:
                got = self.rm.projects.get_project(name=name, retry=self.retry.retry(),
                                                   timeout=self.retry.request_timeout)
                body = message_dict(got)
                node = _node(body, self.sink.save("projects-get", body))
            except GOOGLE_FAILURES as exc:
                tree.gaps.append(Gap(name, "projects.get", exc))
                continue
            if node.state != ACTIVE:
                tree.deleting.append(node)
                continue
            tree.nodes[node.name] = node
            self._climb(tree, node)
        return tree

    def _climb(self, tree: Hierarchy, node: Node) -> None:
        parent = node.parent
        while parent and parent not in tree.nodes:
            try:
                if parent.startswith("folders/"):
                    got: Any = self.rm.folders.get_folder(
                        name=parent, retry=self.retry.retry(), timeout=self.retry.request_timeout)
                    operation = "folders-get"
                else:
                    got = self.rm.organizations.get_organization(
                        name=parent, retry=self.retry.retry(), timeout=self.retry.request_timeout)
                    operation = "organizations-get"
            except GOOGLE_FAILURES as exc:
                tree.gaps.append(Gap(node.name, f"{parent.split('/')[0]}.get", exc))
                return
            body = message_dict(got)
            above = _node(body, self.sink.save(operation, body))
            tree.nodes[above.name] = above
            parent = above.parent

    def _folders(self, parent: str) -> list[Node]:
        pager = self.rm.folders.list_folders(request={"parent": parent, "page_size": 1000},
                                             retry=self.retry.retry(),
                                             timeout=self.retry.request_timeout)
        pages = gapic_pages(pager.pages, self.sink, "folders")
        return [_node(f, ref) for body, ref in pages for f in body.get("folders", [])]

    def _projects(self, parent: str) -> list[Node]:
        pager = self.rm.projects.list_projects(request={"parent": parent, "page_size": 1000},
                                               retry=self.retry.retry(),
                                               timeout=self.retry.request_timeout)
        pages = gapic_pages(pager.pages, self.sink, "projects")
        return [_node(p, ref) for body, ref in pages for p in body.get("projects", [])]
