"""The main window's menus: File, Edit, View (every dock, the toolbar, the start page),
Run and Help. Every action a newcomer needs is here, named as the docs name it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from openbrains.app import help as help_dialogs
from openbrains.app.insertlink import insert_from_file
from openbrains.app.settings import recent_files

if TYPE_CHECKING:
    from openbrains.app.main import MainWindow


def add_action(
    window: MainWindow, menu: QMenu, text: str, slot: Callable[..., Any], shortcut: Any = None
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(w: MainWindow) -> None:
    bar = w.menuBar()
    act = w.menu_actions = {}

    f = bar.addMenu("&File")
    act["start_page"] = add_action(w, f, "S&tart page", lambda: w.show_start_page())
    act["new"] = add_action(
        w, f, "&New project…", lambda: w.new_project(), QKeySequence.StandardKey.New
    )
    act["open"] = add_action(w, f, "&Open…", lambda: w.open_dialog(), QKeySequence.StandardKey.Open)
    w.recent_menu = f.addMenu("Open &recent")
    w.recent_menu.aboutToShow.connect(lambda: fill_recent(w))
    act["save"] = add_action(w, f, "&Save", lambda: w.save(), QKeySequence.StandardKey.Save)
    act["save_as"] = add_action(
        w, f, "Save &as…", lambda: w.save_as(), QKeySequence.StandardKey.SaveAs
    )
    f.addSeparator()
    act["export"] = add_action(w, f, "Export &champion…", lambda: w.export_champion(), "Ctrl+E")
    act["publish"] = add_action(w, f, "&Publish…", lambda: w.exchange.publish_dialog())
    add_action(w, f, "&Play a game against a brain…", w.play_game)
    add_action(w, f, "&Generate images from a denoiser…", w.generate_images)
    f.addSeparator()
    add_action(w, f, "&Quit", lambda: w.close(), QKeySequence.StandardKey.Quit)

    e = bar.addMenu("&Edit")
    for action in w.editor.actions():
        e.addAction(action)
    e.addSeparator()
    act["insert_from_file"] = add_action(
        w, e, "&Insert from file…", lambda: insert_from_file(w), "Ctrl+Shift+I"
    )

    v = bar.addMenu("&View")
    w.view_menu = v
    for dock in w.docks():
        toggle = dock.toggleViewAction()
        toggle.setText(dock.windowTitle())
        v.addAction(toggle)
    v.addSeparator()
    toolbar = w.run_toolbar.toggleViewAction()
    toolbar.setText("Run bar")
    v.addAction(toolbar)
    v.addSeparator()
    add_action(w, v, "&Fit the graph in view", w.editor.fit)
    add_action(w, v, "&Reset the layout", w.reset_layout)

    r = bar.addMenu("&Run")
    add_action(w, r, "Choose &task…", lambda: w.choose_task())
    act["start"] = add_action(w, r, "&Start / pause", lambda: w.start_pause())
    add_action(w, r, "&Inject edited graph", lambda: w.inject(), "Ctrl+I")
    r.addSeparator()
    add_action(w, r, "Show the &seed", w.show_seed)
    add_action(w, r, "&Use the canvas graph as the seed", w.use_as_seed)
    r.addSeparator()
    w.follow_action = add_action(w, r, "&Follow champion", lambda on: w.set_follow(on))
    w.follow_action.setCheckable(True)
    act["family"] = add_action(w, r, "Family &tree", lambda: w.show_family_tree(), "Ctrl+T")
    act["compare"] = add_action(w, r, "&Compare with parent", lambda: w.compare_with_parent())

    h = bar.addMenu("&Help")
    act["getting_started"] = add_action(
        w, h, "&Getting started", lambda: help_dialogs.getting_started(w), "F1"
    )
    add_action(w, h, "&Keyboard shortcuts", lambda: show_shortcuts(w))
    h.addSeparator()
    add_action(w, h, "&About Open Brains", lambda: help_dialogs.about(w))


def show_shortcuts(w: MainWindow) -> None:
    actions = [a for m in w.menuBar().findChildren(QMenu) for a in m.actions()]
    actions += w.editor.actions() + w.editor.view.actions()
    help_dialogs.keyboard_shortcuts(w, actions)


def fill_recent(w: MainWindow) -> None:
    from pathlib import Path

    w.recent_menu.clear()
    paths = recent_files()
    for path in paths:
        add_action(w, w.recent_menu, path, lambda _=False, p=path: w.open_path(Path(p)))
    if not paths:
        none = w.recent_menu.addAction("(none yet)")
        none.setEnabled(False)
