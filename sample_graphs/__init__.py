"""The ready-made projects, shipped inside the package as ``openbrains.sample_graphs``
(data files beside this one). ``python -m openbrains.engine.samples sample_graphs``
rewrites them from code; a test checks they are current. The window opens them as
templates: saving asks where, so a sample is never overwritten."""
