"""The CNB contract (Buildpack API 0.10): paths, plans, layers, env files, launch.toml, bindings.

Nothing in this package knows about Python packaging.
"""
