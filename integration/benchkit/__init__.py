"""benchkit: the measurements behind ``scripts/bench`` (``python -m benchkit``).

phases      build phase and step timings from the build log
raw         the hand-made baseline: each tool by itself, with and without bytecode
rattler_env the conda baseline's py-rattler script (run by a py-rattler venv, not imported)
cachebytes  the cache layer bytes a rebuild restores and exports
imports     import times inside the image, by kind of bytecode
sizes       launch layer bytes and their floor
detect      bin/detect timing in the build container
sample      all of the above for one sample app
table       headline figures and the table
"""
