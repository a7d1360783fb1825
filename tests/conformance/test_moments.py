"""Outputs have the mean and variance their posterior implies, within 5 SE.

Each estimator must sample outputs whose moments are the closed form's
`apply(x, mu) + mu_b` and `apply(x**2, sigma**2) + sigma_b**2`; with
scales that differ per weight, a wrong variance (even by a few percent of
one weight's share) fails reliably.
"""

import numpy as np
import pytest
import tensorflow as tf

import support
from conformance import cases

NUM_CALLS = 3000


def _randomize_posterior(layer):
  """Random locations, and scales from about 0.3 to 1.3, weight by weight."""
  for i, variable in enumerate(layer.trainable_variables):
    # Scales are softplus of their variables, for modules and Keras alike.
    low, high = (-1., 1.) if 'scale' in variable.name else (-2., 2.)
    variable.assign(tf.random.stateless_uniform(
        variable.shape, (i, 9), low, high, variable.dtype))


# The closed form holds for outputs that are one linear map of the weights;
# the recurrent cells and the embedding pin their own moments in their family
# files.
@pytest.mark.parametrize('case', cases.params(cases.LINEAR_VARIATIONAL))
def test_outputs_have_the_closed_form_mean_and_variance(case):
  layer = case.build()
  _randomize_posterior(layer)
  x = cases.inputs(case, (1,))
  y = support.seeded_samples(lambda s: cases.call(layer, x, s), NUM_CALLS)
  assert np.isfinite(y).all()
  support.assert_normal_moments(
      y, *support.closed_form_moments(layer, x, cases.linear_map(layer).apply))
