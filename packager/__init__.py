"""scripts/package.sh: stage a clean buildpack directory and write it as a buildpackage (.cnb).

Not part of the buildpack itself; it reuses the buildpack's downloader and metadata reader.
"""
