"""Runnable examples: `python -m tritonlayers.examples.vae` trains the guide's VAE."""
