"""The discovery report (issue #18): what a run found, as one standalone HTML page.

``gather`` reads a run folder (read-only), ``findings`` works out what the best tenth
has more of than the rest and how the champion's lineage climbed (torch-free),
``ablation`` knocks the champion's nodes out one at a time, ``plots`` draws the figures
as SVG, ``page`` writes the HTML with the figures embedded.
"""
