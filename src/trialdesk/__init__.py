"""trialdesk: run early-phase dose-escalation clinical trials end to end."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trialdesk")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
