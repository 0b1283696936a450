"""The one error type for problems the user can fix."""

from __future__ import annotations


class UserError(Exception):
    """A build or detect failure caused by the app, its config or the network.

    Printed as a titled block: the title, what happened, and how to fix it. Never a traceback
    (that appears only at BP_LOG_LEVEL=DEBUG).
    """

    def __init__(self, title: str, detail: str, fix: str) -> None:
        super().__init__(title)
        self.title = title
        self.detail = detail
        self.fix = fix

    def render(self) -> str:
        lines = [f"[Error: {self.title}]", ""]
        lines += [f"  {line}".rstrip() for line in self.detail.strip("\n").splitlines()]
        lines += ["", "  How to fix:"]
        lines += [f"    {line}".rstrip() for line in self.fix.strip("\n").splitlines()]
        return "\n".join(lines)
