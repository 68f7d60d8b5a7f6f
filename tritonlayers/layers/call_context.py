"""The state shared by nested `Layer.__call__`s: training flag, name path, autocast dtype.

The outermost call opens a frame (`entry` is that layer); nested calls inherit and
override it, and every call restores what it changed in a `finally`, so an exception
never leaves a stale training flag behind. The state is a plain module-level object
(no thread-locals, no allocation per call) so `torch.compile` traces it as ordinary
Python side effects.

Example:
>>> from tritonlayers.layers import call_context
>>> call_context.STATE.training is None and call_context.current_path() is None
True
"""


class _CallState:
    """Fields of the active call; all None outside any layer call. `tracing` is True while
    a layer's `call` runs on stand-ins to infer its output shape."""

    __slots__ = ("autocast_dtype", "entry", "path", "tracing", "training")

    def __init__(self):
        self.entry = None
        self.training = None
        self.path = None
        self.autocast_dtype = None
        self.tracing = False


STATE = _CallState()


def current_path() -> "str | None":
    """The path of the layer whose call (or build) is running, e.g. "mlp_block/linear".

    Example:
    >>> current_path() is None
    True
    """
    return STATE.path


class name_scope:
    """Run a block with `path` as the current layer path (used around `build`).

    Example:
    >>> with name_scope("outer"):
    ...     current_path()
    'outer'
    """

    __slots__ = ("_path", "_saved")

    def __init__(self, path: str):
        self._path = path

    def __enter__(self) -> "name_scope":
        self._saved = STATE.path
        STATE.path = self._path
        return self

    def __exit__(self, *exc_info) -> None:
        STATE.path = self._saved
