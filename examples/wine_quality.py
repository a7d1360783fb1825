"""keras-io's "Probabilistic Bayesian Neural Networks" wine-quality model on Keras 3, with `tfnx.keras` for `tfp.layers`.

The example's probabilistic BNN, code unchanged but for the imports
(`tfpl = tfnx.keras` for `tfp.layers`): a functional model over eleven
named inputs, `BatchNormalization`, two `DenseVariational(8,
activation="sigmoid")` layers with a fixed `MultivariateNormalDiag` prior
and a `MultivariateNormalTriL` posterior, and an `IndependentNormal(1)` head
trained on the negative log-likelihood. Nothing is downloaded: the data are
synthetic wines whose quality (3 to 9) depends linearly on the features plus
noise. Prints the RMSE and, for a few test wines, the predictive mean, the
stddev and the 95% interval.

    python examples/wine_quality.py [--epochs 1000] [--examples 4898]
"""

import argparse

import keras
from keras import layers
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnx.keras as tfpl

FEATURE_NAMES = [
    'fixed acidity', 'volatile acidity', 'citric acid', 'residual sugar',
    'chlorides', 'free sulfur dioxide', 'total sulfur dioxide', 'density',
    'pH', 'sulphates', 'alcohol',
]

hidden_units = [8, 8]
learning_rate = 0.001
batch_size = 256


def synthetic_wines(num_examples, seed=0):
  """Eleven standardized features and an integer quality from 3 to 9."""
  rng = np.random.default_rng(seed)
  features = rng.normal(size=(num_examples, len(FEATURE_NAMES)))
  weights = rng.normal(scale=0.4, size=len(FEATURE_NAMES))
  noise = rng.normal(scale=0.6, size=num_examples)
  quality = np.clip(np.round(5.9 + features @ weights + noise), 3, 9)
  return ({name: features[:, i:i + 1].astype('float32')
           for i, name in enumerate(FEATURE_NAMES)},
          quality[:, None].astype('float32'))


def get_train_and_test_splits(train_size, num_examples):
  """The example's batched datasets, from the synthetic wines."""
  features, quality = synthetic_wines(num_examples)
  dataset = tf.data.Dataset.from_tensor_slices((features, quality))
  train_dataset = dataset.take(train_size).shuffle(
      buffer_size=train_size, seed=1).batch(batch_size)
  test_dataset = dataset.skip(train_size).batch(batch_size)
  return train_dataset, test_dataset


def create_model_inputs():
  inputs = {}
  for feature_name in FEATURE_NAMES:
    inputs[feature_name] = layers.Input(
        name=feature_name, shape=(1,), dtype=tf.float32)
  return inputs


# Define the prior weight distribution as Normal of mean=0 and stddev=1.
# Note that, in this example, the we prior distribution is not trainable,
# as we fix its parameters.
def prior(kernel_size, bias_size, dtype=None):
  n = kernel_size + bias_size
  prior_model = keras.Sequential(
      [
          tfpl.DistributionLambda(
              lambda t: tfp.distributions.MultivariateNormalDiag(
                  loc=tf.zeros(n), scale_diag=tf.ones(n)
              )
          )
      ]
  )
  return prior_model


# Define variational posterior weight distribution as multivariate Gaussian.
# Note that the learnable parameters for this distribution are the means,
# variances, and covariances.
def posterior(kernel_size, bias_size, dtype=None):
  n = kernel_size + bias_size
  posterior_model = keras.Sequential(
      [
          tfpl.VariableLayer(
              tfpl.MultivariateNormalTriL.params_size(n), dtype=dtype
          ),
          tfpl.MultivariateNormalTriL(n),
      ]
  )
  return posterior_model


def create_probablistic_bnn_model(train_size):
  inputs = create_model_inputs()
  features = keras.layers.concatenate(list(inputs.values()))
  features = layers.BatchNormalization()(features)

  # Create hidden layers with weight uncertainty using the DenseVariational
  # layer.
  for units in hidden_units:
    features = tfpl.DenseVariational(
        units=units,
        make_prior_fn=prior,
        make_posterior_fn=posterior,
        kl_weight=1 / train_size,
        activation='sigmoid',
    )(features)

  # Create a probabilistic output (Normal distribution), and use the `Dense`
  # layer to produce the parameters of the distribution.
  # We set units=2 to learn both the mean and the variance of the Normal
  # distribution.
  distribution_params = layers.Dense(units=2)(features)
  outputs = tfpl.IndependentNormal(1)(distribution_params)

  model = keras.Model(inputs=inputs, outputs=outputs)
  return model


def negative_loglikelihood(targets, estimated_distribution):
  return -estimated_distribution.log_prob(targets)


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument('--epochs', type=int, default=1000)
  p.add_argument('--examples', type=int, default=4898)
  args = p.parse_args()
  keras.utils.set_random_seed(0)
  train_size = int(args.examples * 0.85)
  train_dataset, test_dataset = get_train_and_test_splits(
      train_size, args.examples)
  prob_bnn_model = create_probablistic_bnn_model(train_size)
  prob_bnn_model.compile(
      optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
      loss=negative_loglikelihood,
      metrics=[keras.metrics.RootMeanSquaredError()],
  )
  prob_bnn_model.fit(train_dataset, epochs=args.epochs, verbose=0)
  _, rmse = prob_bnn_model.evaluate(test_dataset, verbose=0)
  print(f'Test RMSE: {round(rmse, 3)}')

  sample = 10
  examples, targets = list(test_dataset.unbatch().shuffle(
      batch_size * 10, seed=2).batch(sample))[0]
  prediction_distribution = prob_bnn_model(examples)
  prediction_mean = prediction_distribution.mean().numpy().tolist()
  prediction_stdv = prediction_distribution.stddev().numpy()

  # The 95% CI is computed as mean ± (1.96 * stdv)
  upper = (prediction_mean + (1.96 * prediction_stdv)).tolist()
  lower = (prediction_mean - (1.96 * prediction_stdv)).tolist()
  prediction_stdv = prediction_stdv.tolist()

  for idx in range(sample):
    print(
        f'Prediction mean: {round(prediction_mean[idx][0], 2)}, '
        f'stddev: {round(prediction_stdv[idx][0], 2)}, '
        f'95% CI: [{round(upper[idx][0], 2)} - {round(lower[idx][0], 2)}]'
        f' - Actual: {targets[idx]}'
    )


if __name__ == '__main__':
  main()
