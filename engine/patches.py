"""ImageCodec's patch layout, declared once: images ``[B, H, W, ch]`` travel as patch
steps ``[B, gh·gw, p·p·ch]`` (row-major over the grid, each patch row-major over its
pixels, channels last). Whatever moves pixels (training shifts, test-time views, the codec)
goes through these two, so the layout cannot drift between them."""

from __future__ import annotations

import torch


def to_patches(img: torch.Tensor, patch: int) -> torch.Tensor:
    """Images ``[B, H, W, ch]`` (H and W divisible by ``patch``) → ``[B, gh·gw, p·p·ch]``."""
    b, h, w, ch = img.shape
    gh, gw, p = h // patch, w // patch, patch
    patches = img.reshape(b, gh, p, gw, p, ch).permute(0, 1, 3, 2, 4, 5)
    return patches.reshape(b, gh * gw, p * p * ch)


def to_images(x: torch.Tensor, grid: tuple[int, int], patch: int, channels: int) -> torch.Tensor:
    """Patch steps ``[B, gh·gw, p·p·ch]`` → images ``[B, gh·p, gw·p, ch]``."""
    (gh, gw), p, ch = grid, patch, channels
    img = x.reshape(-1, gh, gw, p, p, ch).permute(0, 1, 3, 2, 4, 5)
    return img.reshape(-1, gh * p, gw * p, ch)
