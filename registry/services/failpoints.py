"""Named crash points for the crash-safety tests: with REGISTRY_FAILPOINT=<name> the process
dies the moment it reaches that point, as it would on kill -9 or a power cut, so a test can
show that nothing half-done survives. Unset (always, outside those tests) it does nothing."""

from __future__ import annotations

import os

VARIABLE = "REGISTRY_FAILPOINT"


def reach(name: str) -> None:
    if os.environ.get(VARIABLE) == name:
        os._exit(137)
