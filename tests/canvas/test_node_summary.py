"""The second line of an input node's card says what the brain reads, views included."""

from __future__ import annotations

from openbrains.canvas.catalog import UnitSpec
from openbrains.canvas.items.node import summary
from openbrains.engine.graph import Node


def test_an_image_input_card_says_whether_it_answers_with_views() -> None:
    spec = UnitSpec(name="input")
    image = {"name": "image", "modality": "image", "channels": 1, "grid_h": 8, "grid_w": 8}
    plain = Node(uid="a", unit="input", params=dict(image))
    viewed = Node(uid="b", unit="input", params={**image, "views": 1, "patch": 1})
    assert summary(plain, spec) == "input · image · 8×8"
    assert summary(viewed, spec) == "input · image · 8×8 · views"
