"""License statements from package metadata, as SPDX expressions where they are one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from packaging.licenses import canonicalize_license_expression

# Trove classifiers that name exactly one SPDX license. Classifiers that name a family
# ("BSD License", "Apache Software License", "GNU General Public License (GPL)") are kept as
# free text: guessing a version would put a license in the SBOM that the package never declared.
_CLASSIFIERS = {
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: CeCILL-B Free Software License Agreement (CECILL-B)": "CECILL-B",
    "License :: CeCILL-C Free Software License Agreement (CECILL-C)": "CECILL-C",
    "License :: OSI Approved :: Blue Oak Model License (BlueOak-1.0.0)": "BlueOak-1.0.0",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: CEA CNRS Inria Logiciel Libre License, version 2.1 (CeCILL-2.1)": (
        "CECILL-2.1"
    ),
    "License :: OSI Approved :: CMU License (MIT-CMU)": "MIT-CMU",
    "License :: OSI Approved :: Common Development and Distribution License 1.0 (CDDL-1.0)": (
        "CDDL-1.0"
    ),
    "License :: OSI Approved :: Eclipse Public License 1.0 (EPL-1.0)": "EPL-1.0",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: Educational Community License, Version 2.0 (ECL-2.0)": "ECL-2.0",
    "License :: OSI Approved :: European Union Public Licence 1.0 (EUPL 1.0)": "EUPL-1.0",
    "License :: OSI Approved :: European Union Public Licence 1.1 (EUPL 1.1)": "EUPL-1.1",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": (
        "GPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": (
        "GPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": (
        "LGPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: MirOS License (MirOS)": "MirOS",
    "License :: OSI Approved :: Mozilla Public License 1.0 (MPL)": "MPL-1.0",
    "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Mulan Permissive Software License v2 (MulanPSL-2.0)": (
        "MulanPSL-2.0"
    ),
    "License :: OSI Approved :: NASA Open Source Agreement v1.3 (NASA-1.3)": "NASA-1.3",
    "License :: OSI Approved :: Open Software License 3.0 (OSL-3.0)": "OSL-3.0",
    "License :: OSI Approved :: Python License (CNRI Python License)": "CNRI-Python",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: SIL Open Font License 1.1 (OFL-1.1)": "OFL-1.1",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: Zero-Clause BSD (0BSD)": "0BSD",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
}

# Values that tools write when a package declares no license.
_NO_LICENSE = {"", "unknown", "none", "n/a", "noassertion"}

_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+")


def spdx_expression(text: str) -> str | None:
    """The canonical form of a valid SPDX license expression, or None."""
    try:
        return canonicalize_license_expression(text)
    except ValueError:  # InvalidLicenseExpression
        return None


def statement(text: str | None) -> str | None:
    """One license statement: canonical SPDX when valid, else its first line; None if empty.

    Only the first line is kept because `License` fields often hold the whole license text.
    """
    if text is None:
        return None
    lines = [line.strip() for line in text.strip().splitlines()]
    first = lines[0] if lines else ""
    if first.lower() in _NO_LICENSE:
        return None
    return spdx_expression(text.strip()) or first


def from_classifiers(classifiers: Iterable[str]) -> tuple[str, ...]:
    """License statements from trove classifiers, in order, without repeats."""
    found: list[str] = []
    for classifier in classifiers:
        parts = [p.strip() for p in classifier.split("::")]
        if parts[0] != "License" or parts[-1] in ("License", "OSI Approved"):
            continue
        text = _CLASSIFIERS.get(" :: ".join(parts), parts[-1])
        if text not in found:
            found.append(text)
    return tuple(found)


def license_ref(text: str) -> str:
    """A stable SPDX LicenseRef- id for free text; the hash keeps texts with one slug apart."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.")[:48] or "unnamed"
    digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:8]
    return f"LicenseRef-{slug}-{digest}"


def license_refs(expression: str) -> list[str]:
    """The LicenseRef- ids used in an SPDX expression."""
    return _LICENSE_REF.findall(expression)


def all_of(expressions: Iterable[str]) -> str:
    """The SPDX conjunction of expressions: every license statement found applies."""
    parts = list(expressions)
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({e})" if len(e.split()) > 1 else e for e in parts)
