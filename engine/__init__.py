"""Open Brains engine: the headless core (signals, units, graphs, compiler, format, evolution).

Never imports Qt; the canvas talks to it through plain data and numpy arrays.
"""

__version__ = "0.1.0"
