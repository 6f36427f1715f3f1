"""Blueprints, one per feature. Views are thin: load or 404, call a service, render or redirect."""
