"""Compression statistics reported by every htkeras layer and cell (see ``htkeras.summary``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompressionStats:
    """``params``: trainable parameters; ``dense_params``: parameters of the uncompressed equivalent;
    ``flops``: floating-point operations (2 per multiply-add) per example for one call (one time step
    for a cell), or None where unknown."""

    params: int
    dense_params: int
    flops: int | None

    @property
    def compression(self) -> float:
        return self.dense_params / self.params if self.params else float("inf")

    def __add__(self, other: "CompressionStats") -> "CompressionStats":
        flops = None if self.flops is None or other.flops is None else self.flops + other.flops
        return CompressionStats(self.params + other.params, self.dense_params + other.dense_params, flops)
