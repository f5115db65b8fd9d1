"""CLI command groups: one module each, exposing ``register(app: typer.Typer)``."""
