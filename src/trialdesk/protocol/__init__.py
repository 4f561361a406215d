"""WHAT the trial is: the protocol model, loading and validation, and registry import."""

from trialdesk.protocol.loader import (
    BUILTIN_PROTOCOL_ID,
    LoadedProtocol,
    ProtocolError,
    builtin_protocol,
    load_protocol,
    load_protocol_file,
    load_protocol_text,
)
from trialdesk.protocol.models import Protocol

__all__ = [
    "BUILTIN_PROTOCOL_ID",
    "LoadedProtocol",
    "Protocol",
    "ProtocolError",
    "builtin_protocol",
    "load_protocol",
    "load_protocol_file",
    "load_protocol_text",
]
