"""The main window's family tree and parent | child views, read from the run folder.

A mixin of ``MainWindow``. Both read the archive read-only (``app.snapshot``), so they
work on a reopened project without a running search and never wait on the engine; the
tree follows the champion while its dock is visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6

from openbrains.app.snapshot import read_individual, read_lineage
from openbrains.app.toplevel import open_top_level
from openbrains.canvas.lineage import node_names, readable_detail
from openbrains.engine.graph import Graph

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget, QStatusBar

    from openbrains.app.project import Project
    from openbrains.canvas.compare import CompareView
    from openbrains.canvas.editor import GraphEditor
    from openbrains.canvas.lineage import FamilyTreeView
    from openbrains.canvas.population import PopulationView


class LineageLink:
    project: Project
    editor: GraphEditor
    population: PopulationView
    family: FamilyTreeView
    family_dock: QDockWidget
    opened_from: int | None
    metric_name: str
    compare_window: CompareView | None

    if TYPE_CHECKING:  # the window class provides these

        def statusBar(self) -> QStatusBar: ...
        def open_individual(self, ind: int, animated: bool = False) -> None: ...

    def connect_lineage(self) -> None:
        self.compare_window = None
        self.family.individualActivated.connect(lambda i: self.open_individual(i))
        self.family.compareRequested.connect(self.compare_with_parent)
        self.family.refreshRequested.connect(lambda: self.refresh_family_tree())
        self.family.redrawWanted.connect(self.refresh_family_tree)
        self.population.compareRequested.connect(self.compare_with_parent)
        self.population.familyRequested.connect(self.show_family_tree)
        self.family_dock.visibilityChanged.connect(
            lambda visible: self.refresh_family_tree(self.family.focus) if visible else None
        )

    def show_family_tree(self, ind: int | None = None) -> None:
        """Run → Family tree: the dock, in front, drawn for ``ind`` (the champion)."""
        self.family_dock.show()
        self.family_dock.raise_()
        self.refresh_family_tree(ind)

    def refresh_family_tree(self, ind: int | None = None) -> None:
        """Draw the tree of ``ind`` (the champion by default)."""
        focus = ind if ind is not None else self.population.champion
        items = read_lineage(self.project.default_run_dir(), focus) if focus is not None else []
        self.family.set_lineage(items, focus, self.metric_name)

    def champion_changed(self, ind: int) -> None:
        """A new champion: its tree, when the dock shows and the pointer is not on it."""
        shown = self.family_dock.isVisible() and not self.family_dock.visibleRegion().isEmpty()
        if shown and not self.family.hold_for(ind):
            self.refresh_family_tree(ind)

    def compare_with_parent(self, ind: int | None = None) -> CompareView | None:
        """Parent | child for ``ind`` (default: the individual on the canvas, else the
        champion), in a window of its own."""
        from openbrains.canvas.compare import CompareView

        target = ind if ind is not None else self.opened_from or self.population.champion
        run_dir = self.project.default_run_dir()
        child = read_individual(run_dir, target) if target is not None else None
        lineage = read_lineage(run_dir, target, limit=1) if target is not None else []
        parents = lineage[0]["parents"] if lineage else []
        parent = read_individual(run_dir, int(parents[0])) if parents else None
        if child is None or parent is None:
            self.statusBar().showMessage(
                "open an individual that has a parent first (click a card, or a node of the "
                "family tree)",
                6000,
            )
            return None

        def build() -> CompareView:
            view = CompareView(self.editor.catalog)
            names = node_names(child.get("graph")) | node_names(parent.get("graph"))
            how = readable_detail(str(child.get("detail") or child.get("mutation") or ""), names)
            view.set_pair(
                Graph.from_json(parent["graph"]),
                Graph.from_json(child["graph"]),
                self._side_title("parent", parent),
                self._side_title("child", child),
                how,
            )
            view.setWindowTitle(f"#{parent['id']} | #{child['id']} — Open Brains")
            return view

        self.close_compare()
        view = open_top_level(self, build, "Cannot compare")  # type: ignore[arg-type]
        if view is not None:  # forgotten when it closes (it deletes itself)
            view.destroyed.connect(self._compare_gone)
        self.compare_window = view
        return view

    def _compare_gone(self) -> None:
        self.compare_window = None

    def close_compare(self) -> None:
        view, self.compare_window = self.compare_window, None
        if view is not None and shiboken6.isValid(view):
            view.close()

    def _side_title(self, role: str, d: dict[str, Any]) -> str:
        score = d.get("score")
        text = f"{score:.4f}" if isinstance(score, int | float) else "—"
        params = int(d.get("params") or 0)
        return f"<b>{role} #{d['id']}</b> · {self.metric_name} {text} · {params:,} params"
