"""Layers: the `Layer` base class, `Variable`, `InputSpec`, and the built-in layers.

Example:
>>> import tritonlayers as keras
>>> keras.layers.Layer is keras.Layer
True
"""

from .input_spec import InputSpec
from .layer import Layer
from .variables import Variable

__all__ = ["InputSpec", "Layer", "Variable"]

# Built-in layers (LAYERS).
from .activation_layers import ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax
from .adaptive_pooling import (
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from .attention import MultiHeadAttention
from .convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from .core import Dense, Embedding, Identity, InputLayer, Lambda, Masking
from .dot_attention import AdditiveAttention, Attention
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from .preprocessing import Normalization, Rescaling
from .recurrent import GRU, LSTM, RNN, Bidirectional, SimpleRNN
from .regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from .reshaping import (
    Cropping2D,
    Cropping3D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from .reshaping_1d import Cropping1D, UpSampling1D, ZeroPadding1D
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from .sampling import Sampling
from .time_distributed import TimeDistributed

__all__ += [
    "GRU",
    "AdaptiveAveragePooling1D",
    "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D",
    "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D",
    "AveragePooling3D",
    "AvgPool3D",
    "Conv3D",
    "Conv3DTranspose",
    "Convolution1DTranspose",
    "Convolution3D",
    "Convolution3DTranspose",
    "Cropping3D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool3D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling3D",
    "MaxPool3D",
    "MaxPooling3D",
    "UpSampling3D",
    "ZeroPadding3D",
    "LSTM",
    "RNN",
    "ELU",
    "Activation",
    "ActivityRegularization",
    "Add",
    "AdditiveAttention",
    "AlphaDropout",
    "Attention",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Convolution1D",
    "Convolution2D",
    "Convolution2DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GroupNormalization",
    "Identity",
    "InputLayer",
    "LSTMCell",
    "Lambda",
    "LayerNormalization",
    "LeakyReLU",
    "Masking",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Normalization",
    "PReLU",
    "Permute",
    "RMSNormalization",
    "ReLU",
    "RepeatVector",
    "Rescaling",
    "Reshape",
    "Sampling",
    "SeparableConv2D",
    "SimpleRNN",
    "SimpleRNNCell",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "Subtract",
    "TimeDistributed",
    "UnitNormalization",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
]


def __getattr__(name):
    # `keras.layers.Input` is the functional `Input`, which lives with `Model` (imported on
    # first use: `models` imports `layers`).
    if name == "Input":
        from ..models import Input

        return Input
    raise AttributeError(f"module 'tritonlayers.layers' has no attribute {name!r}")


# Image and categorical preprocessing layers.
from .categorical_preprocessing import CategoryEncoding, Discretization  # noqa: E402
from .image_preprocessing import (  # noqa: E402
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)

__all__ += [
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
]

# Lookup and text preprocessing layers.
from .text_preprocessing import (  # noqa: E402
    Hashing,
    IntegerLookup,
    StringLookup,
    TextVectorization,
)

__all__ += ["Hashing", "IntegerLookup", "StringLookup", "TextVectorization"]

# Grouped-query attention and convolutional LSTMs.
from .conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: E402
from .grouped_query_attention import GroupedQueryAttention, GroupQueryAttention  # noqa: E402

__all__ += [
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "GroupQueryAttention",
    "GroupedQueryAttention",
]

# Wrappers, EinsumDense, ReversibleEmbedding, TorchModuleWrapper, serialize/deserialize.
from .einsum_dense import EinsumDense  # noqa: E402
from .reversible_embedding import ReversibleEmbedding  # noqa: E402
from .serialization import deserialize, serialize  # noqa: E402
from .torch_module_wrapper import TorchModuleWrapper  # noqa: E402
from .wrappers import SpectralNormalization, Wrapper  # noqa: E402

__all__ += [
    "EinsumDense",
    "ReversibleEmbedding",
    "SeparableConv1D",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
    "SpatialDropout3D",
    "SpectralNormalization",
    "StackedRNNCells",
    "TorchModuleWrapper",
    "Wrapper",
    "deserialize",
    "serialize",
]

# Colour, spatial and mixing image augmentations.
from .image_augmentation import (  # noqa: E402
    AutoContrast,
    Equalization,
    RandomColorDegeneration,
    RandomColorJitter,
    RandomGrayscale,
    RandomHue,
    RandomInvert,
    RandomPosterization,
    RandomSaturation,
    RandomSharpness,
    Solarization,
)
from .image_augmentation_spatial import (  # noqa: E402
    AugMix,
    CutMix,
    MaxNumBoundingBoxes,
    MixUp,
    RandAugment,
    RandomElasticTransform,
    RandomErasing,
    RandomGaussianBlur,
    RandomPerspective,
    RandomShear,
)

__all__ += [
    "AugMix",
    "AutoContrast",
    "CutMix",
    "Equalization",
    "MaxNumBoundingBoxes",
    "MixUp",
    "RandAugment",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "Solarization",
]

# Audio preprocessing, Pipeline and HashedCrossing.
from .audio_preprocessing import MelSpectrogram, STFTSpectrogram  # noqa: E402
from .pipeline import Pipeline  # noqa: E402
from .text_preprocessing import HashedCrossing  # noqa: E402

__all__ += ["HashedCrossing", "MelSpectrogram", "Pipeline", "STFTSpectrogram"]
