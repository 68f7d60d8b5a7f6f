"""Where Keras-style messages go: stdout while interactive logging is on (the default),
Python's `logging` (logger "tritonlayers", level INFO) once it is turned off.

Progress bars and download messages print through `print_msg`, so
`keras.utils.disable_interactive_logging()` moves them into a server job's log.

Example:
>>> import tritonlayers as keras
>>> keras.utils.is_interactive_logging_enabled()
True
>>> print_msg("hello")
hello
"""

import logging
import sys

__all__ = [
    "disable_interactive_logging",
    "enable_interactive_logging",
    "is_interactive_logging_enabled",
    "print_msg",
]

_state = {"interactive": True}
logger = logging.getLogger("tritonlayers")


def enable_interactive_logging() -> None:
    """Send logs (progress bars, messages) to stdout, as in a shell or a notebook.

    Example:
    >>> enable_interactive_logging()
    >>> is_interactive_logging_enabled()
    True
    """
    _state["interactive"] = True


def disable_interactive_logging() -> None:
    """Send logs to the "tritonlayers" Python logger (INFO) instead of stdout.

    Example:
    >>> disable_interactive_logging()
    >>> is_interactive_logging_enabled()
    False
    >>> enable_interactive_logging()
    """
    _state["interactive"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether logs go to stdout (True, the default) or to the Python logger.

    Example:
    >>> is_interactive_logging_enabled()
    True
    """
    return _state["interactive"]


def print_msg(message: str, line_break: bool = True) -> None:
    """Write `message` to stdout (plus a newline if `line_break`), or log it at INFO level
    when interactive logging is off.

    Example:
    >>> print_msg("1/1", line_break=False)
    1/1
    """
    message = str(message)
    if not _state["interactive"]:
        logger.info(message)
        return
    text = f"{message}\n" if line_break else message
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        # A terminal without the bar's "━": fall back to "=", as Keras does.
        encoding = sys.stdout.encoding or "utf-8"
        sys.stdout.write(text.replace("━", "=").encode(encoding, "ignore").decode(encoding))
    sys.stdout.flush()
