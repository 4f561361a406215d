"""The people who use the desk: adding one (with an argon2 password for signing) and checking
that whoever acts is an active user.

The first user of an empty desk adds themself (make them the administrator); after that only an
active user whose role may add users (administrator, investigator) adds another.
The audit says who was added with which role; it never holds the password or its hash.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import record_change
from trialdesk.store.models import User
from trialdesk.trial import roles
from trialdesk.trial.clock import Clock
from trialdesk.trial.lookup import check_text, require_role
from trialdesk.trial.passwords import hash_password
from trialdesk.trial.records import check_actor
from trialdesk.trial.roles import Action

ROLES: Final = roles.ROLES
"""What each role may do is the matrix in :mod:`trialdesk.trial.roles` (docs/roles.md)."""
PRINTED_NAME_LENGTH: Final = 200


def add_user(
    session: Session,
    *,
    username: str,
    printed_name: str,
    role: str,
    password: str,
    actor: str | None,
    clock: Clock,
) -> User:
    """A new active user. ``actor`` may be None only for the first user of an empty desk."""
    name = check_actor(username)
    if any(ch.isspace() for ch in name):
        raise TrialdeskError(f"{name!r} contains a space; use e.g. dr.li", field="username")
    printed = check_text(printed_name, "printed_name", limit=PRINTED_NAME_LENGTH, required=True)
    assert printed is not None
    if role not in ROLES:
        raise TrialdeskError(f"{role!r} is not a role; use one of {', '.join(ROLES)}", field="role")
    users = session.scalar(select(func.count()).select_from(User)) or 0
    if users == 0:
        who = check_actor(actor) if actor else name
        if who != name:
            raise TrialdeskError(
                f"the desk has no users yet, so {who!r} cannot act; add the first user as "
                "themself (leave the actor out)",
                field="actor",
            )
    else:
        if not actor:
            raise TrialdeskError(
                "is required: the desk has users, so say which active user adds this one",
                field="actor",
            )
        who = require_role(session, check_actor(actor), Action.ADD_USER).username
    if session.scalars(select(User).where(User.username == name)).one_or_none() is not None:
        raise TrialdeskError(f"{name!r} is already a user; choose another", field="username")
    user = User(
        username=name,
        display_name=printed,
        printed_name=printed,
        role=role,
        active=True,
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    record_change(
        session,
        actor=who,
        entity="user",
        entity_id=str(user.id),
        field=None,
        old=None,
        new={"username": name, "printed_name": printed, "role": role, "password": "(hidden)"},
        reason="user added",
        now=clock.now(),
    )
    return user


def require_user(session: Session, username: str) -> User:
    """The active user ``username``; refused when there is none (every write names its actor)."""
    name = check_actor(username)
    user = session.scalars(select(User).where(User.username == name)).one_or_none()
    if user is None or not user.active:
        raise TrialdeskError(
            f"{name!r} is not an active user of this desk; give your own user name "
            "(any active user can add you with `trialdesk user add`)",
            field="actor",
        )
    return user
