"""The one error type that loading a saved file raises.

Every problem found in a file that is read (a corrupt or hostile archive, a lying
safetensors header, weights that do not fit the model, a config that names code) is an
`ArchiveError`. It subclasses `ValueError`, so `except ValueError` keeps working, and its
message names the file and says what was expected and what was found. A config whose
objects cannot be rebuilt raises `ConfigRebuildError`, an `ArchiveError` that is also a
`TypeError`, the type Keras raises there.

Example:
>>> from tritonlayers.saving import ArchiveError
>>> issubclass(ArchiveError, ValueError)
True
"""


class ArchiveError(ValueError):
    """A saved file (archive, weights file or their parts) is malformed or does not fit.

    Loading functions raise it before they change anything the caller owns.

    Example:
    >>> from tritonlayers.saving import ArchiveError
    >>> str(ArchiveError("m.keras: config.json is missing"))
    'm.keras: config.json is missing'
    """


class ConfigRebuildError(ArchiveError, TypeError):
    """A saved config names a class or function that could not be rebuilt from it.

    Keras 3 raises `TypeError` when a model's config does not deserialize (an unknown
    class, a function that is not registered, a `from_config` that fails), so this error
    is a `TypeError` as well as an `ArchiveError`: `except TypeError` works as with Keras.

    Example:
    >>> from tritonlayers.saving.errors import ArchiveError, ConfigRebuildError
    >>> issubclass(ConfigRebuildError, ArchiveError), issubclass(ConfigRebuildError, TypeError)
    (True, True)
    """
