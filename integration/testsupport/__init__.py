"""Support for tests that run the buildpack against local stand-ins for its downloads.

- cpython: relocatable CPython tarballs shaped like python-build-standalone "install_only".
- server: a local HTTP file server with a request log and fault injection.
- buildpack: a copy of the buildpack whose CPython dependencies point at that server.
"""
