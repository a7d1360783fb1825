"""tfnx.keras: `tfp.layers` on Keras 3.

Write `import tfnx.keras as tfpl` where you wrote `tfpl = tfp.layers`: the
same layer names, arguments, defaults and properties, as Keras 3 layers that
train with `model.fit`, save to `.keras` files and draw every random number
from stateless ops. The variational layers (`DenseFlipout`, ...,
`DenseVariational`), the distribution layers (`DistributionLambda`,
`IndependentNormal`, ..., `VariationalGaussianProcess`,
`AutoregressiveTransform`), whose outputs are `DistributionTensor`s a Keras
loss receives as distributions, the KL penalties, `BlockwiseInitializer`,
`tfnx.keras.util` and the TF1 contrib functional forms (`dense_flipout`,
...). Needs the TensorFlow backend of Keras; see
docs/keras.md.
"""

import keras

if keras.backend.backend() != 'tensorflow':
  raise ImportError('tfnx.keras needs the TensorFlow backend of Keras; the '
                    f'active backend is {keras.backend.backend()!r}. Set '
                    'KERAS_BACKEND=tensorflow.')

# pylint: disable=g-import-not-at-top
from tfnx.keras import initializers
from tfnx.keras import util
from tfnx.keras.builders import default_loc_scale_fn
from tfnx.keras.builders import default_mean_field_normal_fn
from tfnx.keras.builders import default_multivariate_normal_fn
from tfnx.keras.builders import kl_divergence
from tfnx.keras.builders import LocScaleFn
from tfnx.keras.builders import MeanFieldNormalFn
from tfnx.keras.builders import posterior_sample
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
from tfnx.keras.conversion import CenteredNormalFn
from tfnx.keras.conversion import to_variational
from tfnx.keras.dense import DenseFlipout
from tfnx.keras.dense import DenseLocalReparameterization
from tfnx.keras.dense import DenseReparameterization
from tfnx.keras.dense_variational import DenseVariational
from tfnx.keras.distribution_heads import CategoricalMixtureOfOneHotCategorical
from tfnx.keras.distribution_heads import IndependentBernoulli
from tfnx.keras.distribution_heads import IndependentLogistic
from tfnx.keras.distribution_heads import IndependentNormal
from tfnx.keras.distribution_heads import IndependentPoisson
from tfnx.keras.distribution_heads import MixtureLogistic
from tfnx.keras.distribution_heads import MixtureNormal
from tfnx.keras.distribution_heads import MixtureSameFamily
from tfnx.keras.distribution_heads import MultivariateNormalTriL
from tfnx.keras.distribution_heads import OneHotCategorical
from tfnx.keras.distribution_lambda import DistributionLambda
from tfnx.keras.distribution_tensor import DistributionTensor
from tfnx.keras.divergence import KLPerExample
from tfnx.keras.embedding import EmbeddingReparameterization
from tfnx.keras.functional import conv1d_flipout
from tfnx.keras.functional import conv1d_reparameterization
from tfnx.keras.functional import conv2d_flipout
from tfnx.keras.functional import conv2d_reparameterization
from tfnx.keras.functional import conv3d_flipout
from tfnx.keras.functional import conv3d_reparameterization
from tfnx.keras.functional import dense_flipout
from tfnx.keras.functional import dense_local_reparameterization
from tfnx.keras.functional import dense_reparameterization
from tfnx.keras.initializers import BlockwiseInitializer
from tfnx.keras.kl_divergence_layers import KLDivergenceAddLoss
from tfnx.keras.kl_divergence_layers import KLDivergenceRegularizer
from tfnx.keras.masked_autoregressive import AutoregressiveTransform
from tfnx.keras.recurrent import GRUCellFlipout
from tfnx.keras.recurrent import GRUCellReparameterization
from tfnx.keras.recurrent import LSTMCellFlipout
from tfnx.keras.recurrent import LSTMCellReparameterization
from tfnx.keras.recurrent import VariationalRNN
from tfnx.keras.variable_layer import VariableLayer
from tfnx.keras.variational import VariationalLayer
from tfnx.keras.variational_gaussian_process import VariationalGaussianProcess

__all__ = [
    'AutoregressiveTransform',
    'BlockwiseInitializer',
    'CategoricalMixtureOfOneHotCategorical',
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
    'DenseVariational',
    'DistributionLambda',
    'DistributionTensor',
    'EmbeddingReparameterization',
    'GRUCellFlipout',
    'GRUCellReparameterization',
    'IndependentBernoulli',
    'IndependentLogistic',
    'IndependentNormal',
    'IndependentPoisson',
    'KLDivergenceAddLoss',
    'KLDivergenceRegularizer',
    'KLPerExample',
    'LSTMCellFlipout',
    'LSTMCellReparameterization',
    'LocScaleFn',
    'MeanFieldNormalFn',
    'MixtureLogistic',
    'MixtureNormal',
    'MixtureSameFamily',
    'MultivariateNormalTriL',
    'OneHotCategorical',
    'VariableLayer',
    'VariationalGaussianProcess',
    'VariationalLayer',
    'VariationalRNN',
    'conv1d_flipout',
    'conv1d_reparameterization',
    'conv2d_flipout',
    'conv2d_reparameterization',
    'conv3d_flipout',
    'conv3d_reparameterization',
    'default_loc_scale_fn',
    'default_mean_field_normal_fn',
    'default_multivariate_normal_fn',
    'dense_flipout',
    'dense_local_reparameterization',
    'dense_reparameterization',
    'kl_divergence',
    'posterior_sample',
    'initializers',
    'to_variational',
    'util',
]
