"""The total-correlation discriminator: tells codes of q(z) from codes of prod_j q(z_j).

Kim & Mnih describe "6 layers, 1000 hidden units each, LeakyReLU 0.2". We read it as the best-known
PyTorch code does: 6 linear layers = 5 hidden layers of 1000 units (the first one from z) + a
2-logit output. Logit 0 means "joint" (codes of real images), logit 1 "permuted" (factorised).
"""
from __future__ import annotations

from torch import nn

from nar_solver.model.vae import init_weights

JOINT, PERMUTED = 0, 1


class Discriminator(nn.Module):
    def __init__(self, z_dim: int = 10, width: int = 1000, hidden_layers: int = 5):
        super().__init__()
        self.z_dim = z_dim
        layers: list[nn.Module] = []
        fan_in = z_dim
        for _ in range(hidden_layers):
            layers += [nn.Linear(fan_in, width), nn.LeakyReLU(0.2, inplace=True)]
            fan_in = width
        layers.append(nn.Linear(fan_in, 2))
        self.net = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z):
        """Two logits per code: [joint, permuted]."""
        return self.net(z)
