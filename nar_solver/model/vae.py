"""The convolutional VAE of Kim & Mnih's 2D-shapes experiments, for 64x64 single-channel images.

Encoder: four 4x4 stride-2 convolutions (32, 32, 64, 64 channels, ReLU) -> FC 128 (ReLU) -> FC 2*z
(mean, log-variance). Two decoders (``architecture``):

- ``factorvae-conv64`` mirrors the encoder: FC 128 -> FC 4*4*64 -> transposed 4x4 stride-2
  convolutions to 64, 32, 32 and finally 1 channel of Bernoulli logits (the paper's net);
- ``broadcastN`` is the spatial broadcast decoder (Watters et al. 2019) with its convolutions at
  N x N (``nar_solver.model.broadcast``), made for images of small objects;
- ``whatwhere32`` draws the glyph on a 32 x 32 tile from z[2:] and places it at the translation
  z[:2] (``nar_solver.model.whatwhere``), made for one object per image.

The architecture's name is stored with the weights, so a checkpoint of one is never loaded as the other.
Two initialisations (``init``): "reference" is N(0, 0.02) weights with zero biases, as in the
reference implementations; "default" keeps PyTorch's own layer initialisation and starts the
encoder's log-variance output at -6 (posterior std 0.05). On our sparse images (one glyph on white)
the reference init sits for thousands of steps in the collapsed state (KL ~ 0, the decoder draws
the mean image); the default init leaves it within a few hundred steps (docs/training.md).
"""
from __future__ import annotations

import torch
from torch import nn

from nar_solver.model.broadcast import SpatialBroadcastDecoder
from nar_solver.model.gemm_deconv import GemmConvTranspose2d
from nar_solver.model.whatwhere import WHERE_DIMS, WhatWhereDecoder, WhereHead

#: The paper's architecture, the default.
ARCHITECTURE = "factorvae-conv64"
#: Decoder of each architecture name, stored in config.json and model.safetensors so a checkpoint
#: of another net is refused. broadcastN: the spatial broadcast decoder at N x N, its channels
#: chosen to keep the cost within ~2-3x of the deconvolution decoder's (docs/training.md).
ARCHITECTURES: dict[str, tuple[int, int] | None] = {
    ARCHITECTURE: None,
    "broadcast16": (16, 64),
    "broadcast32": (32, 32),
    "broadcast64": (64, 16),
    "whatwhere32": (32, 64),
}
#: The what/where architectures among them: (tile size, deconvolution width).
WHATWHERE = frozenset({"whatwhere32"})
INITS = ("default", "reference")
#: Starting log-variance of q(z|x) under the "default" init: informative codes from step one.
DEFAULT_LOGVAR_BIAS = -6.0


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """normal(0, std) weights and zero biases for every conv, transposed conv and linear layer."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class Encoder(nn.Module):
    def __init__(self, z_dim: int):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(inplace=True),    # 32x32
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),   # 16x16
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(inplace=True),   # 8x8
            nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(inplace=True),   # 4x4
        )
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(inplace=True), nn.Linear(128, 2 * z_dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x))


class Decoder(nn.Module):
    def __init__(self, z_dim: int):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(z_dim, 128), nn.ReLU(inplace=True), nn.Linear(128, 64 * 4 * 4), nn.ReLU(inplace=True)
        )
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(inplace=True),  # 8x8
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(inplace=True),  # 16x16
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),  # 32x32
            GemmConvTranspose2d(32, 1, 4, 2, 1),                         # 64x64 logits (a matmul on CPU)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], 64, 4, 4)
        return self.deconvs(h)


class FactorVAE(nn.Module):
    """Gaussian encoder q(z|x), Bernoulli decoder p(x|z); inputs are ink tensors (N,1,64,64) in [0,1]."""

    def __init__(self, z_dim: int = 10, init: str = "default", architecture: str = ARCHITECTURE):
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be >= 1, got {z_dim}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
        self.z_dim = z_dim
        self.architecture = architecture
        self.encoder = Encoder(z_dim)
        broadcast = ARCHITECTURES[architecture]
        if architecture in WHATWHERE:
            self.decoder: nn.Module = WhatWhereDecoder(z_dim, *broadcast)
        elif broadcast is None:
            self.decoder = Decoder(z_dim)
        else:
            self.decoder = SpatialBroadcastDecoder(z_dim, *broadcast)
        if init == "reference":
            init_weights(self)
        else:
            with torch.no_grad():
                self.encoder.fc[-1].bias[z_dim:].fill_(DEFAULT_LOGVAR_BIAS)
        # what/where: the means of z[:, :2] are the where head's soft-argmax (nar_solver.model.whatwhere),
        # made after any re-initialisation so that it starts as the ink's centre
        self.where = WhereHead() if architecture in WHATWHERE else None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (N, z_dim)."""
        stats = self.encoder(x)
        mu, logvar = stats[:, : self.z_dim], stats[:, self.z_dim :]
        if self.where is not None:
            mu = torch.cat([self.where(x).to(mu.dtype), mu[:, WHERE_DIMS:]], 1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (N,1,64,64); ``torch.sigmoid`` gives ink probabilities."""
        return self.decoder(z)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        eps = torch.randn(mu.shape, dtype=mu.dtype, device=mu.device, generator=generator)
        return mu + eps * torch.exp(0.5 * logvar)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """(logits, mu, logvar, z) with z a reparameterised sample of q(z|x)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.decode(z), mu, logvar, z
