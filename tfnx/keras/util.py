"""`tfnx.keras.util`: `tfp.layers.util` on Keras 3.

The weight-distribution builders are those of `tfnx.keras._builders` (also
exported by `tfnx.keras`); `serialize_function` and `deserialize_function`
save and load a layer's function arguments through Keras serialization.
"""

from tfnx.keras._builders import default_loc_scale_fn
from tfnx.keras._builders import default_mean_field_normal_fn
from tfnx.keras._builders import default_multivariate_normal_fn
from tfnx.keras._distribution_lambda import deserialize_function
from tfnx.keras._distribution_lambda import serialize_function

__all__ = ['default_loc_scale_fn', 'default_mean_field_normal_fn',
           'default_multivariate_normal_fn', 'serialize_function',
           'deserialize_function']
