"""cnb-python: a Cloud Native Buildpack for Python apps."""
