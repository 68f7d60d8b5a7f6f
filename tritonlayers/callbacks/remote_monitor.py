"""`RemoteMonitor`: POST each epoch's logs to an HTTP server, with the standard library only."""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .callback import Callback, to_python


class RemoteMonitor(Callback):
    """Send `{"epoch": ..., **logs}` as JSON to `root + path` at the end of every epoch.

    With `send_as_json=False` (the default) the JSON text is the value of the form field
    `field` in a `application/x-www-form-urlencoded` body; with `send_as_json=True` it is the
    whole body, sent as `application/json`. Any HTTP reply counts as delivered; when the
    server cannot be reached the callback warns and training goes on.

    Args:
        root: the server's root URL.
        path: the path, relative to `root`, that receives the events.
        field: the form field holding the JSON (only when `send_as_json=False`).
        headers: extra HTTP headers.
        send_as_json: send the JSON as the request body.

    Example:
    >>> import warnings
    >>> monitor = RemoteMonitor(root="http://127.0.0.1:9")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     monitor.on_epoch_end(0, {"loss": 0.5})
    >>> str(caught[0].message)
    'Could not reach RemoteMonitor root server at http://127.0.0.1:9'
    """

    timeout = 10.0  # seconds to wait for the server before giving up on one epoch's event

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict | None = None,
        send_as_json: bool = False,
    ):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def _request(self, send: dict) -> urllib.request.Request:
        payload = json.dumps(send)
        if self.send_as_json:
            body, content_type = payload, "application/json"
        else:
            body = urllib.parse.urlencode({self.field: payload})
            content_type = "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type, **(self.headers or {})}
        return urllib.request.Request(
            self.root + self.path, data=body.encode("utf-8"), headers=headers, method="POST"
        )

    def on_epoch_end(self, epoch, logs=None) -> None:
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            value = to_python(value)
            send[key] = value.tolist() if isinstance(value, np.ndarray) else value
        try:
            with urllib.request.urlopen(self._request(send), timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError:
            # The server answered (with an error status): the event was delivered, as far
            # as Keras's RemoteMonitor is concerned.
            pass
        except (OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}", stacklevel=2)
