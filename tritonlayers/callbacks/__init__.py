"""Keras 3 callbacks: hooks around `fit`, `evaluate` and `predict`.

Example:
>>> import tritonlayers as keras
>>> stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
>>> isinstance(stopper, keras.callbacks.Callback)
True
"""

from .backup_and_restore import BackupAndRestore
from .callback import Callback
from .callback_list import CallbackList, History
from .learning_rate_scheduler import LearningRateScheduler
from .logging_callbacks import CSVLogger, LambdaCallback, TerminateOnNaN
from .model_checkpoint import ModelCheckpoint
from .monitor import EarlyStopping, MonitorCallback, ReduceLROnPlateau
from .progbar import Progbar, ProgbarLogger
from .remote_monitor import RemoteMonitor
from .swap_ema_weights import SwapEMAWeights
from .tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "Progbar",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
