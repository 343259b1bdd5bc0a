"""Seeded, endless batch streams over a training source, delivered as uint8 tensors on the device.

Batch ``which`` (0 = the VAE's batch, 1 = the discriminator's second batch) of step ``step`` on
rank ``rank`` is a pure function of (seed, rank, step, which): a resumed run sees exactly the batches
it would have seen, and distributed ranks see different data. Folder data is sampled without
replacement, epoch by epoch, each epoch a fresh seeded permutation.
"""
from __future__ import annotations

import numpy as np
import torch

from nar_solver.data.sources import FolderSource

#: Stream id of the fixed sample used for the latent range and the figures (never a training batch).
SAMPLE_STREAM = 0x5A4D


class BatchStream:
    def __init__(self, source, seed: int, rank: int = 0, batches_per_step: int = 2,
                 device: torch.device | str = "cpu"):
        self.source, self.seed, self.rank = source, int(seed), int(rank)
        self.batches_per_step = batches_per_step
        self.device = torch.device(device)
        self._images: torch.Tensor | None = None
        if isinstance(source, FolderSource):
            # the whole set, uint8, where the model is: batches are gathered by index, never copied per item
            self._images = torch.from_numpy(source.images).to(self.device)
        self._perm_epoch, self._perm = -1, np.empty(0, dtype=np.int64)
        self._pinned: list[tuple[torch.Tensor, torch.cuda.Event | None]] = []
        self._slot = 0

    def batch(self, step: int, which: int, n: int) -> torch.Tensor:
        """The batch as a uint8 tensor (n, 64, 64) on the stream's device."""
        if self._images is not None:
            index = torch.from_numpy(self._indices(step, which, n)).to(self.device, non_blocking=True)
            return self._images.index_select(0, index)
        images = torch.from_numpy(self.source.draw(np.random.default_rng([self.seed, self.rank, step, which]), n))
        if self.device.type != "cuda":
            return images
        return self._to_cuda(images)

    def sample(self, n: int) -> np.ndarray:
        """A fixed sample of n images (the same for every rank and every save), as uint8 numpy."""
        rng = np.random.default_rng([self.seed, SAMPLE_STREAM])
        if self._images is not None:
            count = len(self.source)
            index = rng.permutation(count)[:n] if n <= count else rng.integers(0, count, n)
            return self.source.images[np.sort(index)]
        return self.source.draw(rng, n)

    # -- internals --------------------------------------------------------------------------------

    def _indices(self, step: int, which: int, n: int) -> np.ndarray:
        """Positions [start, start+n) of an endless concatenation of per-epoch permutations."""
        count = len(self.source)
        start = (step * self.batches_per_step + which) * n
        positions = np.arange(start, start + n, dtype=np.int64)
        epochs = positions // count
        out = np.empty(n, dtype=np.int64)
        for epoch in np.unique(epochs):
            mask = epochs == epoch
            out[mask] = self._permutation(int(epoch))[positions[mask] % count]
        return out

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            rng = np.random.default_rng([self.seed, self.rank, epoch, 0xE90C])
            self._perm, self._perm_epoch = rng.permutation(len(self.source)), epoch
        return self._perm

    def _to_cuda(self, images: torch.Tensor) -> torch.Tensor:
        """Copy through a small ring of pinned host buffers so the transfer is asynchronous."""
        if not self._pinned or self._pinned[0][0].shape != images.shape:
            self._pinned = [(torch.empty(images.shape, dtype=torch.uint8).pin_memory(), None) for _ in range(3)]
        buffer, event = self._pinned[self._slot]
        if event is not None:
            event.synchronize()  # the copy that last used this buffer has finished
        buffer.copy_(images)
        out = buffer.to(self.device, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
        self._pinned[self._slot] = (buffer, done)
        self._slot = (self._slot + 1) % len(self._pinned)
        return out
