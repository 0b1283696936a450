"""benchkit: the measurements behind ``scripts/bench`` (``python -m benchkit``).

phases   build phase and step timings from the build log
raw      the hand-made baseline: venv + pip install
imports  import times inside the image, by kind of bytecode
sizes    launch layer bytes and their floor
detect   bin/detect timing in the build container
sample   all of the above for one sample app
table    headline figures and the table
"""
