"""The outcome of one verification run, as text for people and JSON for tools."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .builds import BuildRecord
from .images import Comparison, LayerComparison
from .model import CAUSES, Difference

MAX_LISTED = 30  # differences printed per layer; the JSON has them all


@dataclass
class RunReport:
    app: str
    mode: str  # "cold" | "warm" | "code-change" | "lock-change"
    builds: list[BuildRecord] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    error: str | None = None  # a build failed, so nothing could be compared

    @property
    def reproducible(self) -> bool:
        return self.error is None and all(c.identical for c in self.comparisons)

    def causes(self) -> Counter[str]:
        return Counter(d.cause for c in self.comparisons for d in c.differences)

    def as_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "mode": self.mode,
            "reproducible": self.reproducible,
            "error": self.error,
            "causes": dict(self.causes()),
            "builds": [b.as_json() for b in self.builds],
            "comparisons": [c.as_json() for c in self.comparisons],
        }


def render(report: RunReport) -> str:
    what = {
        "warm": "cold build, warm rebuild, clean cold build",
        "code-change": "cold build, rebuild after a code change, clean cold build of the change",
        "lock-change": "cold build, rebuild after a lock change, clean cold build of the change",
    }.get(report.mode, "two clean builds")
    out = [f"verify-reproducible {report.app} ({what})"]
    for build in report.builds:
        state = "ok" if build.success else f"FAILED in {build.phase} (exit {build.exit_code})"
        out.append(
            f"  build {build.name:<7} {build.started}  PYTHONHASHSEED={build.hash_seed} "
            f"umask {build.umask}  cpus {build.cpus}  {build.seconds:6.1f} s  {state}  "
            f"{build.root}"
        )
    for comparison in report.comparisons:
        out += ["", *_comparison(comparison)]
    out.append("")
    if report.error:
        out.append(f"RESULT: ERROR: {report.error}")
    elif report.reproducible:
        out.append(
            "RESULT: REPRODUCIBLE: every layer digest, layer [metadata], SBOM file and the config "
            f"digest are identical ({len(report.comparisons)} comparison(s))"
        )
    else:
        counts = ", ".join(f"{cause} x{n}" for cause, n in report.causes().most_common())
        out.append(
            f"RESULT: NOT REPRODUCIBLE: {sum(report.causes().values())} differences ({counts})"
        )
        for cause in report.causes():
            out.append(f"  {cause:<16} {CAUSES[cause]}")
    return "\n".join(out) + "\n"


def _comparison(c: Comparison) -> list[str]:
    out = [f"{c.label}: {'identical' if c.identical else 'DIFFERENT'}"]
    if c.config_digest_a == c.config_digest_b:
        out.append(f"  config digest  {c.config_digest_a} (both)")
    else:
        out.append(f"  config digest  {c.config_digest_a} vs {c.config_digest_b}")
    for layer in c.layers:
        out += _layer(layer)
    out += _differences(c.config, in_layer=False)
    differing = [path for path, state in c.sbom_files.items() if state != "identical"]
    if differing:
        out.append(f"  SBOM files: {len(differing)} of {len(c.sbom_files)} differ:")
        out += [f"      {path}: {c.sbom_files[path]}" for path in differing]
    else:
        out.append(f"  SBOM files: {len(c.sbom_files)} compared, all identical")
    return out


def _layer(layer: LayerComparison) -> list[str]:
    label = f"{layer.id} ({layer.kind})"
    if layer.identical:
        return [f"  = {label:<45} {_short(layer.sha_a)}"]
    head = f"  ! {label:<45} {_short(layer.sha_a)} vs {_short(layer.sha_b)}"
    if layer.differences:
        counts = Counter(d.cause for d in layer.differences)
        head += ": " + ", ".join(f"{cause} x{n}" for cause, n in counts.most_common())
    return [head, *_differences(layer.differences, in_layer=True)]


def _differences(found: list[Difference], *, in_layer: bool) -> list[str]:
    out = []
    for diff in found[:MAX_LISTED]:
        if in_layer:
            where = diff.path or "(the tar as a whole)"
        else:
            where = diff.path if diff.where == "config" else f"{diff.where} {diff.path}"
        out.append(f"      {diff.cause:<16} {where}")
        out += [f"          {line}" for line in diff.detail.splitlines()]
    if len(found) > MAX_LISTED:
        out.append(f"      ... {len(found) - MAX_LISTED} more (all of them are in --json)")
    return out


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "(missing)"
