"""The main window's side of a run: start/pause through the engine process, the docks fed
in place by its events, opening individuals on the canvas, following the champion, and
injecting a hand-edited individual with its lineage.

A mixin of ``MainWindow`` (kept apart so each file stays readable); it owns no widgets.
The canvas shows either the project's seed (``opened_from is None``) or an individual
of the run; edits of an individual are for Inject and never overwrite the seed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openbrains.app.attach import attach_if_owned
from openbrains.app.messages import plain, show_error
from openbrains.app.snapshot import higher_is_better, read_individual, read_snapshot
from openbrains.app.trustlist import remember_run
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import INPUT_UNIT, OUTPUT_UNIT, Graph
from openbrains.engine.neighbour import PolicySettings
from openbrains.engine.trust import to_wire

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QStatusBar

    from openbrains.app.client import EngineClient
    from openbrains.app.project import Project
    from openbrains.canvas.editor import GraphEditor
    from openbrains.canvas.logview import LogView
    from openbrains.canvas.plots import PlotsView
    from openbrains.canvas.population import PopulationView
    from openbrains.canvas.runbar import RunBar


def best_of(items: list[dict[str, Any]]) -> int | None:
    """The champion among summaries: highest fitness, then fewer params, then oldest
    (the archive's own order)."""
    scored = [d for d in items if isinstance(d.get("fitness"), int | float)]
    if not scored:
        return None
    best = min(scored, key=lambda d: (-float(d["fitness"]), int(d.get("params") or 0), d["id"]))
    return int(best["id"])


class RunLink:
    client: EngineClient
    editor: GraphEditor
    population: PopulationView
    plots: PlotsView
    runbar: RunBar
    log: LogView
    canvas_label: QLabel
    follow_action: QAction
    project: Project
    run_open: bool
    running: bool
    opened_from: int | None
    edited_individual: bool
    follow_champion: bool
    metric_name: str
    open_asked: int

    if TYPE_CHECKING:  # the window class provides these

        def statusBar(self) -> QStatusBar: ...
        def choose_task(self) -> None: ...
        def on_graph_edited(self) -> None: ...
        def update_title(self) -> None: ...
        def show_editor_page(self) -> None: ...
        def champion_changed(self, ind: int) -> None: ...

    def connect_run(self) -> None:
        """Wire the engine client and the run docks to this window."""
        self.open_asked = 0  # counts requests to open an individual; late replies are dropped
        self.client.event.connect(self.on_engine_event)
        self.client.finished.connect(self.on_engine_finished)
        self.client.log.connect(self.append_log)
        self.population.individualActivated.connect(self.open_individual)
        self.population.followChampionChanged.connect(self.set_follow)
        self.plots.individualActivated.connect(self.open_individual)
        self.runbar.startPauseClicked.connect(self.start_pause)
        self.runbar.workersChanged.connect(lambda n: self.change_setting("workers", n))
        self.runbar.cpuCapChanged.connect(lambda v: self.change_setting("cpu_cap", v))
        self.runbar.tradeoffChanged.connect(lambda v: self.change_setting("tradeoff", v))
        self.runbar.neighbour.changed.connect(self.change_setting)

    # ----- what the docks show -------------------------------------------------------
    def set_metric(self, metric: str | None) -> None:
        self.metric_name = metric or "score"
        self.population.set_metric(self.metric_name)
        self.plots.set_metric(self.metric_name, higher_is_better(metric))

    def show_run_snapshot(self) -> bool:
        """Fill the docks from the project's run folder, if it has one (read-only): a
        reopened project shows its population, plots and family tree before any Start."""
        self.population.set_population([])
        self.plots.set_history([])
        self.family.set_lineage([], None)
        self.plots.set_window(int(self.project.evolver.get("population", 16)))
        snap = read_snapshot(self.project.default_run_dir())
        if snap is None:
            return False
        self.set_metric(snap.metric)
        self.plots.set_history(snap.history)
        self.population.set_population(snap.population)
        if snap.champion is not None:
            self.population.mark_champion(snap.champion)
            self.plots.show_curve(snap.champion, snap.champion_curve)
            self.champion_changed(snap.champion)
        attach_if_owned(self)  # type: ignore[arg-type]  # a search already runs it: join it
        return True

    def show_canvas_state(self) -> None:
        if self.opened_from is None:
            text = "canvas: the seed"
        else:
            edited = " (edited: Ctrl+I injects it)" if self.edited_individual else ""
            text = f"canvas: individual #{self.opened_from}{edited}"
        self.canvas_label.setText(text)

    def show_seed(self) -> None:
        """Back from an individual to the project's seed graph."""
        self.open_asked += 1  # an individual asked for before is no longer wanted
        self.opened_from, self.edited_individual = None, False
        self.editor.set_graph(self.project.graph)
        self.show_canvas_state()

    def use_as_seed(self) -> None:
        """Make the graph on the canvas the project's seed (an unsaved project edit)."""
        self.opened_from, self.edited_individual = None, False
        self.on_graph_edited()  # the seed becomes the canvas graph; dirty; the title says so
        self.show_canvas_state()
        self.statusBar().showMessage("the canvas graph is now the project's seed", 5000)

    # ----- the run ---------------------------------------------------------------------
    def run_settings(self) -> dict[str, Any]:
        ev = self.project.evolver
        settings = {
            "task": self.project.task,
            "population": int(ev.get("population", 16)),
            "workers": int(ev.get("workers", 1)),
            "cpu_cap": float(ev.get("cpu_cap", 0.0)),
            "tradeoff": float(ev.get("tradeoff", 0.02)),
            "max_params": int(ev.get("max_params", 0)),
        }
        settings.update({k: ev[k] for k in PolicySettings.KEYS if k in ev})  # good neighbour
        seed = self.seed_graph()
        if seed is not None:
            settings["seeds"] = [seed.to_json().decode()]
        return settings

    def seed_weights(self, settings: dict[str, Any]) -> list[str]:
        """The project's trained weights for its seed (base64 safetensors), so a brain
        opened or pulled with its weights continues from them, as ``openbrains run
        project.graph`` does. Weights that no longer fit the seed (it was edited) are not
        sent: that seed starts untrained."""
        seeds = settings.get("seeds") or []
        if not seeds or not self.project.weights:
            return []
        import base64

        from openbrains.engine.compile import compile_graph
        from openbrains.engine.weights import encode_weights

        try:
            wanted = compile_graph(Graph.from_json(seeds[0])).weights()
        except OpenBrainsError:
            return []
        have = self.project.weights
        if {k: tuple(v.shape) for k, v in wanted.items()} != {
            k: tuple(v.shape) for k, v in have.items()
        }:
            return []
        return [base64.b64encode(encode_weights(have)).decode("ascii")]

    def seed_graph(self) -> Graph | None:
        """The project's seed, if it is a real one (hidden units, and it compiles)."""
        graph = self.project.graph.copy()
        if not any(n.unit not in (INPUT_UNIT, OUTPUT_UNIT) for n in graph.nodes.values()):
            return None
        try:
            graph.validate()
        except OpenBrainsError:
            return None
        return graph

    def start_pause(self) -> None:
        if not self.run_open:
            if not self.may_start():  # app.startcheck: code, paths, task, data, seed
                return
            run_dir = self.project.assign_run_dir()  # stored relative; a new one dirties
            self.update_title()
            self.runbar.set_running(True)
            settings = self.run_settings()
            self.client.send(
                "open_run",
                self._on_opened,
                run_dir=str(run_dir),
                settings=settings,
                seed_weights=self.seed_weights(settings),
                trusted_code=to_wire(),  # what the user named in this window's dialogs
            )
        elif self.running:
            self.client.send("pause", self._on_reply)
        else:
            self.client.send("start", self._on_reply)

    def _on_opened(self, reply: dict[str, Any]) -> None:
        if not reply.get("ok"):
            self.runbar.set_running(False)
            error = str(reply.get("error"))
            self.statusBar().showMessage(f"cannot start: {plain(error).text}", 10_000)
            self.append_log(f"cannot start: {error}")
            show_error(self, "Cannot start", error)  # type: ignore[arg-type]
            return
        self.run_open = True
        self.set_metric((reply.get("task") or {}).get("metric"))
        settings = reply.get("settings") or {}
        if isinstance(settings.get("task"), dict):  # confirmed by the user: `rate` may use it
            remember_run(self.project.default_run_dir(), settings["task"])
        self.plots.set_window(int(settings.get("population") or 16))
        self.client.send("history", self._on_history)
        self.client.send("population", self._on_population)
        self.client.send("start", self._on_reply)

    def _on_history(self, reply: dict[str, Any]) -> None:
        if reply.get("ok"):
            self.plots.set_history(reply["individuals"])
            self.plots.set_references(reply.get("references"))
            best = best_of(reply["individuals"])
            if best is not None:  # the population reply, next, shows it crowned
                self.population.mark_champion(best)

    def _on_status(self, reply: dict[str, Any]) -> None:
        if reply.get("ok") and reply.get("references"):
            self.plots.set_references(reply["references"])

    def _on_population(self, reply: dict[str, Any]) -> None:
        if reply.get("ok"):
            self.population.set_population(reply["individuals"])

    def _on_reply(self, reply: dict[str, Any]) -> None:
        if not reply.get("ok"):
            error = str(reply.get("error"))
            self.statusBar().showMessage(plain(error, self.node_titles()).text, 8000)
            self.append_log(error)

    def change_setting(self, key: str, value: Any) -> None:
        self.project.evolver[key] = value
        self.project.dirty = True
        if self.run_open:
            self.client.send("set", self._on_reply, **{key: value})

    def close_run(self) -> None:
        self.open_asked += 1  # replies about this run's individuals are no longer wanted
        if self.client.attached:
            self.client.detach()  # the owner's search goes on
        elif self.run_open:
            self.client.send("close_run")
        self.run_open = self.running = False
        self.runbar.set_running(False)

    # ----- individuals on the canvas ---------------------------------------------------
    def inject(self) -> None:
        """Add the canvas graph to the population as a hand-made individual; when it was
        edited from an individual, that one is its parent and lends it its weights."""
        if not self.run_open:
            self.statusBar().showMessage(
                "start the run first; the edited graph is then added to it", 5000
            )
            return
        graph = self.editor.graph()
        source = self.opened_from
        args: dict[str, Any] = {"graph": graph.to_json().decode()}
        if source is not None:
            args["weights_from"] = source
            args["parents"] = [source]
            args["detail"] = f"edited on the canvas from #{source}"
        else:
            args["detail"] = "drawn on the canvas"
        self.client.send("inject", lambda r: self._on_injected(r, source), **args)

    def _on_injected(self, reply: dict[str, Any], source: int | None) -> None:
        if reply.get("ok"):
            origin = f" as a child of #{source}" if source is not None else ""
            text = f"edited graph added to the population{origin}; it trains next"
        else:
            text = f"cannot inject: {reply.get('error')}"
        self.statusBar().showMessage(text, 6000)

    def open_individual(self, ind: int, animated: bool = False) -> None:
        """Show individual ``ind`` on the canvas: asked of the engine while a run is open,
        else read from the run folder (a reopened project is browsable without a run)."""
        self.population.select(int(ind))
        self.open_asked += 1
        asked = self.open_asked
        if not self.run_open:
            reply = read_individual(self.project.default_run_dir(), int(ind))
            if reply is None:
                self.statusBar().showMessage(f"individual #{ind} is not in the run folder", 5000)
                return
            self._on_individual(reply, animated, asked)
            return
        self.client.send(
            "individual", lambda r: self._on_individual(r, animated, asked), individual=int(ind)
        )

    def _on_individual(
        self, reply: dict[str, Any], animated: bool = False, asked: int | None = None
    ) -> None:
        """An individual's reply. One that is no longer wanted is dropped: a newer one was
        asked for since, or it is a champion to follow and following was turned off, or
        the individual on the canvas has edits of the user's a new champion must not wipe."""
        if asked is not None and asked != self.open_asked:
            return
        if animated and (not self.follow_champion or self.edited_individual):
            if self.edited_individual and self.follow_champion and reply.get("ok"):
                self.statusBar().showMessage(
                    f"a new champion, #{reply.get('id')}: not shown, the canvas has your "
                    "edits (Ctrl+I injects them)",
                    8000,
                )
            return
        if not reply.get("ok"):
            self._on_reply(reply)
            return
        self.opened_from, self.edited_individual = int(reply["id"]), False
        graph = Graph.from_json(reply["graph"])
        self.show_editor_page()
        if animated:
            self.editor.show_graph_animated(graph)
        else:
            self.editor.set_graph(graph, relayout=True)
        self.plots.show_curve(self.opened_from, reply.get("curve") or [])
        self.show_canvas_state()
        if not animated:
            score, params = reply.get("score"), int(reply.get("params") or 0)
            self.statusBar().showMessage(
                f"individual #{reply['id']}: {self.metric_name} {score}, {params:,} params — "
                "edit it and press Inject (Ctrl+I) to add your version to the population",
                10_000,
            )

    def set_follow(self, on: bool) -> None:
        """Follow the champion: each new one is drawn on the canvas with its changes
        animated; turning it on shows the current champion at once."""
        self.follow_champion = bool(on)
        self.open_asked += 1  # a champion asked for while following is no longer wanted
        self.follow_action.setChecked(self.follow_champion)
        self.population.set_follow_champion(self.follow_champion)
        if on and self.run_open and self.population.champion is not None:
            self.open_individual(self.population.champion, animated=True)

    def on_engine_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "individual":
            self.population.add_individual(data)
            self.plots.add_individual(data)
            if data.get("champion"):
                self.population.mark_champion(int(data["id"]))
                self.champion_changed(int(data["id"]))
                if self.metric_name == "elo" and not self.plots.reference_lines():
                    # a game run knows its yardstick once its first candidate has played
                    self.client.send("status", self._on_status)
                if self.follow_champion:  # asked for, so its loss curve comes along
                    self.open_individual(int(data["id"]), animated=True)
            if data.get("status") != "done" and data.get("error"):
                words = plain(str(data["error"]), self.node_titles())
                self.log.append_line(f"#{data['id']} {data['status']}: {words.text}", words.detail)
        elif kind == "progress":
            self.runbar.set_progress(data)
        elif kind in ("started", "resumed"):
            self.running = True
            self.runbar.set_running(True)
        elif kind in ("paused", "stopped"):
            self.running = False
            self.runbar.set_running(False)
        elif kind == "finishing":  # the run's time is up; its last champion is refitted
            self.statusBar().showMessage(
                f"finishing: refitting champion #{data.get('refit_of')}", 10_000
            )
        elif kind == "error":
            message = str(data.get("message", "error"))
            self.append_log(message)
            self.statusBar().showMessage(plain(message, self.node_titles()).text, 10_000)

    def on_engine_finished(self, code: int, last: str) -> None:
        was_open = self.run_open
        self.run_open = self.running = False
        self.runbar.set_running(False)
        if was_open and code != 0:
            self.append_log(f"the engine stopped (exit code {code}): {last}")
            self.statusBar().showMessage(
                "the engine stopped; press Start to restart it and resume the run", 10_000
            )

    def append_log(self, text: str) -> None:
        """A line in the engine log, in words; the technical message one click away."""
        words = plain(text, self.node_titles())
        self.log.append_line(words.text, words.detail)

    def node_titles(self) -> dict[str, str]:
        """uid → title of the nodes on the canvas, so messages can name them."""
        return {uid: n.title for uid, n in self.editor.current_graph.nodes.items()}
