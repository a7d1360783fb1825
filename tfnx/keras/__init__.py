"""tfnx.keras: `tfp.layers`' variational layers on Keras 3.

Write `import tfnx.keras as tfpl` where you wrote `tfpl = tfp.layers`: the
same layer names, arguments, defaults and properties, as Keras 3 layers that
train with `model.fit`, save to `.keras` files and draw every random number
from stateless ops. Needs the TensorFlow backend of Keras.
"""

import keras

if keras.backend.backend() != 'tensorflow':
  raise ImportError('tfnx.keras needs the TensorFlow backend of Keras; the '
                    f'active backend is {keras.backend.backend()!r}. Set '
                    'KERAS_BACKEND=tensorflow.')

# pylint: disable=g-import-not-at-top
from tfnx.keras.builders import default_loc_scale_fn
from tfnx.keras.builders import default_mean_field_normal_fn
from tfnx.keras.builders import default_multivariate_normal_fn
from tfnx.keras.builders import kl_divergence
from tfnx.keras.builders import LocScaleFn
from tfnx.keras.builders import MeanFieldNormalFn
from tfnx.keras.builders import posterior_sample
from tfnx.keras.conversion import CenteredNormalFn
from tfnx.keras.conversion import to_variational
from tfnx.keras.conv import Conv1DFlipout
from tfnx.keras.conv import Conv1DReparameterization
from tfnx.keras.conv import Conv2DFlipout
from tfnx.keras.conv import Conv2DReparameterization
from tfnx.keras.conv import Conv3DFlipout
from tfnx.keras.conv import Conv3DReparameterization
from tfnx.keras.conv import Convolution1DFlipout
from tfnx.keras.conv import Convolution1DReparameterization
from tfnx.keras.conv import Convolution2DFlipout
from tfnx.keras.conv import Convolution2DReparameterization
from tfnx.keras.conv import Convolution3DFlipout
from tfnx.keras.conv import Convolution3DReparameterization
from tfnx.keras.dense import DenseFlipout
from tfnx.keras.dense import DenseLocalReparameterization
from tfnx.keras.dense import DenseReparameterization
from tfnx.keras.divergence import KLPerExample
from tfnx.keras.variational import VariationalLayer

__all__ = [
    'CenteredNormalFn',
    'Conv1DFlipout',
    'Conv1DReparameterization',
    'Conv2DFlipout',
    'Conv2DReparameterization',
    'Conv3DFlipout',
    'Conv3DReparameterization',
    'Convolution1DFlipout',
    'Convolution1DReparameterization',
    'Convolution2DFlipout',
    'Convolution2DReparameterization',
    'Convolution3DFlipout',
    'Convolution3DReparameterization',
    'DenseFlipout',
    'DenseLocalReparameterization',
    'DenseReparameterization',
    'KLPerExample',
    'LocScaleFn',
    'MeanFieldNormalFn',
    'VariationalLayer',
    'default_loc_scale_fn',
    'default_mean_field_normal_fn',
    'default_multivariate_normal_fn',
    'kl_divergence',
    'posterior_sample',
    'to_variational',
]
