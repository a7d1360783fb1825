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

import keras as _keras

if _keras.backend.backend() != 'tensorflow':
  raise ImportError('tfnx.keras needs the TensorFlow backend of Keras; the '
                    f'active backend is {_keras.backend.backend()!r}. Set '
                    'KERAS_BACKEND=tensorflow.')

# pylint: disable=g-import-not-at-top
from tfnx.keras import initializers
from tfnx.keras import util
from tfnx.keras._builders import default_loc_scale_fn
from tfnx.keras._builders import default_mean_field_normal_fn
from tfnx.keras._builders import default_multivariate_normal_fn
from tfnx.keras._builders import kl_divergence
from tfnx.keras._builders import LocScaleFn
from tfnx.keras._builders import MeanFieldNormalFn
from tfnx.keras._builders import posterior_sample
from tfnx.keras._conv import Conv1DFlipout
from tfnx.keras._conv import Conv1DReparameterization
from tfnx.keras._conv import Conv2DFlipout
from tfnx.keras._conv import Conv2DReparameterization
from tfnx.keras._conv import Conv3DFlipout
from tfnx.keras._conv import Conv3DReparameterization
from tfnx.keras._conv import Convolution1DFlipout
from tfnx.keras._conv import Convolution1DReparameterization
from tfnx.keras._conv import Convolution2DFlipout
from tfnx.keras._conv import Convolution2DReparameterization
from tfnx.keras._conv import Convolution3DFlipout
from tfnx.keras._conv import Convolution3DReparameterization
from tfnx.keras._conversion import CenteredNormalFn
from tfnx.keras._conversion import to_variational
from tfnx.keras._dense import DenseFlipout
from tfnx.keras._dense import DenseLocalReparameterization
from tfnx.keras._dense import DenseReparameterization
from tfnx.keras._dense_variational import DenseVariational
from tfnx.keras._distribution_heads import CategoricalMixtureOfOneHotCategorical
from tfnx.keras._distribution_heads import IndependentBernoulli
from tfnx.keras._distribution_heads import IndependentLogistic
from tfnx.keras._distribution_heads import IndependentNormal
from tfnx.keras._distribution_heads import IndependentPoisson
from tfnx.keras._distribution_heads import MixtureLogistic
from tfnx.keras._distribution_heads import MixtureNormal
from tfnx.keras._distribution_heads import MixtureSameFamily
from tfnx.keras._distribution_heads import MultivariateNormalTriL
from tfnx.keras._distribution_heads import OneHotCategorical
from tfnx.keras._distribution_lambda import DistributionLambda
from tfnx.keras._distribution_tensor import DistributionTensor
from tfnx.keras._divergence import KLPerExample
from tfnx.keras._embedding import EmbeddingReparameterization
from tfnx.keras._functional import conv1d_flipout
from tfnx.keras._functional import conv1d_reparameterization
from tfnx.keras._functional import conv2d_flipout
from tfnx.keras._functional import conv2d_reparameterization
from tfnx.keras._functional import conv3d_flipout
from tfnx.keras._functional import conv3d_reparameterization
from tfnx.keras._functional import dense_flipout
from tfnx.keras._functional import dense_local_reparameterization
from tfnx.keras._functional import dense_reparameterization
from tfnx.keras._kl_divergence_layers import KLDivergenceAddLoss
from tfnx.keras._kl_divergence_layers import KLDivergenceRegularizer
from tfnx.keras._masked_autoregressive import AutoregressiveTransform
from tfnx.keras._recurrent import GRUCellFlipout
from tfnx.keras._recurrent import GRUCellReparameterization
from tfnx.keras._recurrent import LSTMCellFlipout
from tfnx.keras._recurrent import LSTMCellReparameterization
from tfnx.keras._recurrent import VariationalRNN
from tfnx.keras._variable_layer import VariableLayer
from tfnx.keras._variational_gaussian_process import VariationalGaussianProcess
from tfnx.keras.initializers import BlockwiseInitializer

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
    'initializers',
    'kl_divergence',
    'posterior_sample',
    'to_variational',
    'util',
]
