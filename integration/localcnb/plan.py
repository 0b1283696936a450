"""Build Plans written by bin/detect, their resolution, and Buildpack Plans (cnb-spec.md §2.2, §2.4;
``lc:phase/detector.go`` runTrials/newDepMap, ``lc:platform/files/plan.go``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from .constants import PlatformError


@dataclass(frozen=True)
class Require:
    name: str
    metadata: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "metadata": self.metadata}


@dataclass(frozen=True)
class Sections:
    """One alternative: the top-level provides/requires pair, or one ``[[or]]`` entry."""

    provides: tuple[str, ...]
    requires: tuple[Require, ...]


@dataclass
class Entry:
    """A resolved Build Plan entry: who provides ``name`` and every requirement of it."""

    name: str
    providers: list[str] = field(default_factory=list)
    requires: list[Require] = field(default_factory=list)


def parse(doc: dict[str, Any], bp_id: str) -> list[Sections]:
    """Alternatives in trial order. A top-level ``version`` in a require is a detect error."""
    alternatives = [doc, *doc.get("or", [])]
    out = []
    for alt in alternatives:
        requires = []
        for req in alt.get("requires", []):
            if "version" in req:
                raise PlatformError(
                    f'buildpack {bp_id} has a "version" key which is not supported. '
                    '"metadata.version" should be used instead'
                )
            if not isinstance(req.get("name"), str):
                raise PlatformError(f"buildpack {bp_id}: every requires entry needs a name")
            requires.append(Require(req["name"], dict(req.get("metadata") or {})))
        provides = []
        for prov in alt.get("provides", []):
            if not isinstance(prov.get("name"), str):
                raise PlatformError(f"buildpack {bp_id}: every provides entry needs a name")
            provides.append(prov["name"])
        out.append(Sections(tuple(provides), tuple(requires)))
    return out


def resolve(passed: list[tuple[str, list[Sections]]]) -> tuple[list[Entry] | None, list[str]]:
    """Try each combination of alternatives, first buildpack varying slowest (depth first,
    left to right). Returns the entries of the first viable trial, or ``None`` and the reasons."""
    reasons: list[str] = []
    for number, trial in enumerate(itertools.product(*(alts for _, alts in passed)), start=1):
        ids = [bp_id for bp_id, _ in passed]
        entries, failures = _trial(list(zip(ids, trial)))
        if not failures:
            return entries, reasons
        reasons.append(f"Resolving plan... (try #{number})")
        reasons.extend(failures)
    return None, reasons


def _trial(trial: list[tuple[str, Sections]]) -> tuple[list[Entry], list[str]]:
    entries: dict[str, Entry] = {}
    pending_provides: dict[str, list[str]] = {}
    early_requires: dict[str, list[str]] = {}
    for bp_id, sections in trial:
        for name in sections.provides:
            entries.setdefault(name, Entry(name))
            pending_provides.setdefault(name, []).append(bp_id)
        for req in sections.requires:
            entry = entries.setdefault(req.name, Entry(req.name))
            entry.providers += pending_provides.pop(req.name, [])
            if entry.providers:
                entry.requires.append(req)
            else:
                early_requires.setdefault(req.name, []).append(bp_id)
    failures = [f"fail: {bp} requires {n}" for n, bps in early_requires.items() for bp in bps]
    failures += [
        f"fail: {bp} provides unused {n}" for n, bps in pending_provides.items() for bp in bps
    ]
    # The lifecycle orders entries by Go map iteration (random); first appearance is stable.
    return [e for e in entries.values() if e.providers], failures


def for_buildpack(entries: list[Entry], bp_id: str) -> list[Require]:
    """``Plan.Find``: every requirement of every entry this buildpack provides."""
    return [req for e in entries if bp_id in e.providers for req in e.requires]


def without_met(entries: list[Entry], met: set[str]) -> list[Entry]:
    """``Plan.Filter``: drop entries a buildpack met, so later providers do not see them."""
    return [e for e in entries if not any(req.name in met for req in e.requires)]
