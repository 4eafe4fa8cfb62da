"""How a trial can end besides completing; no Keras here."""

from __future__ import annotations


class TrialFailed(Exception):
    """The trial's parameters made it fail (training diverged, or the settings do not go together)."""


class Surplus(Exception):
    """Another worker filled the study's last place first; this trial is closed without running."""


class GivenUp(Exception):
    """Other workers declared this trial dead (no heartbeat within the grace period) and queued it again."""
