"""nar-solver: NAR visual analogies solved in a Factor-VAE latent space."""
__version__ = "0.1.0"
