"""Brains that run anywhere (DESIGN §12.4): ONNX for onnxruntime, dependency-free C99 for
microcontrollers, and a static web page, each checked number for number against PyTorch.

``formats`` dispatches by name; every exporter takes a compiled ``Brain`` and its
``BrainMeta`` and writes into a fresh folder or file that appears only when complete.
"""
