"""Who may do what: the role matrix, written once as data.

The use-cases (through :func:`trialdesk.trial.lookup.require_role` and the clinical-write guard
in :mod:`trialdesk.trial.records`) and the web API both ask this table, so a page that hides a
button and the API behind it can never disagree. docs/roles.md shows the same table for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from trialdesk.errors import TrialdeskError


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    MONITOR = "monitor"
    DSMB = "dsmb"


ROLES: Final = tuple(role.value for role in Role)


class Action(StrEnum):
    """Everything the desk lets someone do that not everyone may do."""

    READ_CLINICAL = "read_clinical"
    READ_SAFETY_SUMMARY = "read_safety_summary"
    SCREEN = "screen"
    WRITE_CLINICAL = "write_clinical"
    OVERRIDE_ENROLMENT = "override_enrolment"
    ADJUDICATE_DLT = "adjudicate_dlt"
    COMPUTE_DECISION = "compute_decision"
    SIGN_DECISION = "sign_decision"
    OPEN_QUERY = "open_query"
    ANSWER_QUERY = "answer_query"
    CLOSE_QUERY = "close_query"
    ADD_USER = "add_user"


@dataclass(frozen=True, slots=True)
class Permission:
    roles: frozenset[Role]
    doing: str
    """What the action is, as a message says it: 'only the role ... may <doing>'."""


_A, _I, _C, _M, _D = (
    Role.ADMINISTRATOR,
    Role.INVESTIGATOR,
    Role.COORDINATOR,
    Role.MONITOR,
    Role.DSMB,
)

MATRIX: Final[dict[Action, Permission]] = {
    Action.READ_CLINICAL: Permission(
        frozenset({_A, _I, _C, _M}), "read participants' clinical data"
    ),
    Action.READ_SAFETY_SUMMARY: Permission(
        frozenset({_A, _I, _C, _M, _D}), "read the aggregate safety summary"
    ),
    Action.SCREEN: Permission(frozenset({_I, _C}), "screen a candidate"),
    Action.WRITE_CLINICAL: Permission(frozenset({_I, _C}), "record or correct clinical data"),
    Action.OVERRIDE_ENROLMENT: Permission(frozenset({_I}), "override the dose assignment"),
    Action.ADJUDICATE_DLT: Permission(frozenset({_I}), "confirm or reject a DLT"),
    Action.COMPUTE_DECISION: Permission(frozenset({_I, _C}), "compute a dose decision"),
    Action.SIGN_DECISION: Permission(frozenset({_I}), "sign a dose decision"),
    Action.OPEN_QUERY: Permission(frozenset({_M}), "open a data query"),
    Action.ANSWER_QUERY: Permission(frozenset({_I, _C}), "answer a data query"),
    Action.CLOSE_QUERY: Permission(frozenset({_M}), "close a data query"),
    Action.ADD_USER: Permission(frozenset({_A, _I}), "add a user"),
}
"""Action -> the roles allowed to do it. Every action is listed (checked by the tests)."""


class PermissionDenied(TrialdeskError):
    """The actor is known but their role may not do this (the web answers 403)."""


def may(role: str, action: Action) -> bool:
    """Whether ``role`` is allowed ``action`` (an unknown role is allowed nothing)."""
    return role in MATRIX[action].roles


def allowed_roles(action: Action) -> tuple[str, ...]:
    """The roles that may do ``action``, in the order of :class:`Role`."""
    return tuple(role.value for role in Role if role in MATRIX[action].roles)


def who_may(action: Action) -> str:
    """``the role 'investigator'`` or ``the roles 'investigator' or 'coordinator'``."""
    names = [repr(role) for role in allowed_roles(action)]
    if len(names) == 1:
        return f"the role {names[0]}"
    return f"the roles {', '.join(names[:-1])} or {names[-1]}"


def check_permitted(username: str, role: str, action: Action) -> None:
    """Refuse (:class:`PermissionDenied`, field ``actor``) unless ``role`` may do ``action``."""
    if not may(role, action):
        raise PermissionDenied(
            f"{username} has the role {role!r}; only {who_may(action)} may {MATRIX[action].doing}",
            field="actor",
        )
