"""The run folder contract that training writes and everything else reads.

- :mod:`nar_solver.run.config`: ``TrainConfig``, the settings serialised to config.json;
- :mod:`nar_solver.run.folder`: the folder's file names, its config and loss log;
- :mod:`nar_solver.run.checkpoint`: weights (safetensors) and training state, saved and loaded;
- :mod:`nar_solver.run.shipped`: where the shipped models live.
"""
