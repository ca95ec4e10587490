"""Continuing a shared brain on a new task without forgetting (``openbrains run --task NEW
--seed-from FILE.graph --keep protect|share|off``): the continued graph (``graphs``), the
training that keeps the old tasks (``train``), and retention as an objective
(``retention``)."""
