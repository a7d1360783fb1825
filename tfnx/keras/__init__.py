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

# pylint: disable=g-import-not-at-top,unused-import
# Each module registers its public names where it defines them
# (`_export.export`); importing them fills the record the namespace is
# built from.
from tfnx.keras import _builders
from tfnx.keras import _conv
from tfnx.keras import _conversion
from tfnx.keras import _dense
from tfnx.keras import _dense_variational
from tfnx.keras import _distribution_heads
from tfnx.keras import _distribution_lambda
from tfnx.keras import _distribution_tensor
from tfnx.keras import _divergence
from tfnx.keras import _embedding
from tfnx.keras import _export
from tfnx.keras import _functional
from tfnx.keras import _kl_divergence_layers
from tfnx.keras import _masked_autoregressive
from tfnx.keras import _rank1
from tfnx.keras import _recurrent
from tfnx.keras import _recurrent_rank1
from tfnx.keras import _variable_layer
from tfnx.keras import _variational_gaussian_process
from tfnx.keras import initializers
from tfnx.keras import util

_export.export(initializers, name='initializers', serializable=False)
_export.export(util, name='util', serializable=False)
globals().update(_export.exported())
__all__ = sorted(_export.exported())
