"""reprocheck: proves that two builds of an app give the same image, or says exactly what differs.

Entry point: ``scripts/verify-reproducible`` (``python -m reprocheck``). The comparison works on
localcnb images and their layer tarballs:

    compare_images(label, image_a, image_b) -> Comparison   (images.py)
    compare_tars(where, tar_a, tar_b) -> list[Difference]    (layers.py)

Each :class:`Difference` names a layer, a file and a cause from :data:`CAUSES`.
"""

from .images import Comparison, compare_images
from .layers import compare_tars
from .model import CAUSES, Difference

__all__ = ["CAUSES", "Comparison", "Difference", "compare_images", "compare_tars"]
