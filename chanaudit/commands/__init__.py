"""CLI commands by area; each module exposes ``register(app)``."""
