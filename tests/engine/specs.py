"""Input/output specs for random-graph tests: one per modality the codecs produce."""

from __future__ import annotations

from openbrains.engine.signal import SignalMeta, SignalSpec

TEXT_IN = {"text": SignalSpec(1, None, SignalMeta("text", vocab=256))}
TEXT_OUT = {"next": SignalSpec(256, None, SignalMeta("text"))}

MODALITIES = {
    "text": (TEXT_IN, TEXT_OUT),
    "text_classify": (TEXT_IN, {"label": SignalSpec(3, 1)}),
    "image": (
        {"image": SignalSpec(4, 16, SignalMeta("image", grid=(4, 4)))},
        {"label": SignalSpec(10, 1)},
    ),
    "audio": (
        {"audio": SignalSpec(20, 12, SignalMeta("audio", rate=100.0))},
        {"label": SignalSpec(5, 1)},
    ),
    "vector": ({"x": SignalSpec(6, 1)}, {"y": SignalSpec(2, 1)}),
    "image_and_vector": (
        {
            "image": SignalSpec(1, 36, SignalMeta("image", grid=(6, 6))),
            "x": SignalSpec(3, 1),
        },
        {"label": SignalSpec(4, 1), "value": SignalSpec(1, 1)},
    ),
}
