"""The solver defaults that several layers need, in one place (no imports: the CLI reads them
without importing torch).

``solve``, ``evaluate`` and ``tune`` use :data:`MANIFOLD` with :data:`DISTANCE` unless told
otherwise; solve.manifold, solve.ga and cli._choices take their defaults from here, so changing
the default pipeline is a change of these two lines (issue 19; the measurements behind the
choice are in docs/solver.md).
"""

#: The manifold of solve, evaluate and tune: "objects-xy" (positions from perception, the VAE codes
#: shape) or "objects" (the pure latent manifold: the VAE codes position and shape).
MANIFOLD = "objects-xy"
#: How predictions are compared with the options: "code" or a decoded-image distance.
DISTANCE = "code"
