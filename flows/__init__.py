"""Prefect flows: thin wrappers that schedule and retry the `pipeline` stages."""
