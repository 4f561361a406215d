"""The one error base of trialdesk.

Every layer raises a subclass of :class:`TrialdeskError` whose message a coordinator can act on:
what is wrong, where (a field or file location), and how to fix it. The doors (CLI, web) turn it
into a non-zero exit or a 4xx response; they never show a traceback for one.
"""


class TrialdeskError(Exception):
    """A problem the user can fix; the message says what and how."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)
