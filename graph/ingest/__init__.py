"""Importers: SIRENE stock files, curated CSV lists, synthetic data."""
