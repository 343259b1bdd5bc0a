"""The manifold probe (docs/probe.md): does a model's latent space carry x, y and shape on their own axes?

- :mod:`~nar_solver.probe.measures`: the measures, pure numpy functions of codes and images;
- :mod:`~nar_solver.probe.images`: the images the probe encodes (numpy only, no model);
- :mod:`~nar_solver.probe.run`: render, encode, decode, measure and save, on a checkpoint;
- :mod:`~nar_solver.probe.figures`: the probe's figures.

    from nar_solver.probe.run import ProbeSettings, probe_checkpoint, save_probe
"""
