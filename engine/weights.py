"""Tensors as bytes: safetensors, never pickle (archive blobs, worker pipes, jobs)."""

from __future__ import annotations

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save


def encode_weights(weights: dict[str, torch.Tensor]) -> bytes:
    return st_save({k: v.detach().contiguous() for k, v in sorted(weights.items())})


def decode_weights(data: bytes) -> dict[str, torch.Tensor]:
    """Weights we wrote ourselves (archive, worker pipes): safetensors, never pickle."""
    return st_load(data) if data else {}
