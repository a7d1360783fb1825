"""Classifies scikit-learn's 8x8 digits with each estimator and pictures how much to trust the predictions.

Trains the protocol's MLP (`_protocol.py`: 64-128-10, Adam 3e-3, batches of
64, 3000 steps on the ELBO) once with plain `tfn.Affine` layers and once with
each variational layer, then reports accuracy, NLL and expected calibration
error (ECE) of the predictive (the softmax averaged over 50 passes), and how
well predictive entropy tells noise images from test digits (AUROC). Saves
three figures:

- `reliability.png`: accuracy against confidence in 15 bins (with the number
  of test digits in each); a calibrated model's bars follow the diagonal.
- `uncertain.png`: the test digits each Bayesian model is least sure about.
- `entropy.png`: predictive entropy on test digits and on noise images.

    python examples/digits.py [--steps 3000] [--kl-weight 1] [--figures DIR]
"""

import os

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np

import _protocol as protocol
import tfnx as tfn

TITLES = {'deterministic': 'deterministic (Affine)',
          'reparameterization': 'Reparameterization',
          'flipout': 'Flipout',
          'local': 'Local reparameterization'}


def reliability_figure(results, labels, path):
  """One reliability diagram per model, with its ECE.

  Each is titled by `TITLES`, or by its key for other models.
  """
  fig, axes = plt.subplots(1, len(results), figsize=(3.4 * len(results), 3.6),
                           sharey=True, squeeze=False)
  axes = axes[0]
  for ax, (kind, result) in zip(axes, results.items()):
    bins = tfn.metrics.calibration_bins(result['probs'], labels)
    edges, counts = bins.edges.numpy(), bins.counts.numpy()
    centers, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    full = counts > 0
    ax.bar(centers[full], bins.accuracy.numpy()[full], width=width,
           edgecolor='black', color='tab:blue', alpha=0.7,
           label='accuracy in bin')
    ax.plot(centers[full], bins.confidence.numpy()[full], 'o', color='tab:red',
            ms=4, label='mean confidence in bin')
    ax.plot([0, 1], [0, 1], 'k--', lw=1)
    for center, count in zip(centers[full], counts[full]):
      ax.text(center, 0.02, str(int(count)), ha='center', va='bottom',
              rotation=90, fontsize=7, color='white')
    ax.set(title=f"{TITLES.get(kind, kind)}\nECE {result['ece']:.3f}",
           xlabel='confidence', xlim=(0, 1), ylim=(0, 1))
  axes[0].set_ylabel('accuracy')
  axes[0].legend(loc='upper left', fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def uncertain_figure(results, images, labels, path, count=8):
  """For each Bayesian model, the test digits of highest predictive entropy."""
  kinds = [k for k in results if k != 'deterministic']
  fig, axes = plt.subplots(len(kinds), count,
                           figsize=(1.3 * count, 1.75 * len(kinds)))
  for row, kind in zip(axes, kinds):
    probs, entropy = results[kind]['probs'], results[kind]['entropy']
    for ax, i in zip(row, np.argsort(-entropy)[:count]):
      ax.imshow(images[i].reshape(8, 8), cmap='gray_r')
      ax.set_xticks([])
      ax.set_yticks([])
      guess = int(np.argmax(probs[i]))
      ax.set_title(f'label {labels[i]}\n{guess}: {probs[i, guess]:.2f}',
                   fontsize=8, color='black' if guess == labels[i] else 'red')
    row[0].set_ylabel(TITLES[kind], fontsize=8)
  fig.suptitle('Least certain test digits (label; prediction: probability)',
               fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def entropy_figure(results, path):
  """Histograms of predictive entropy on test digits and on noise images."""
  fig, axes = plt.subplots(1, len(results), figsize=(3.4 * len(results), 3.),
                           sharey=True)
  top = np.log(10.)
  for ax, (kind, result) in zip(axes, results.items()):
    bins = np.linspace(0, top, 31)
    ax.hist(result['entropy'], bins=bins, alpha=0.6, label='test digits')
    ax.hist(result['noise_entropy'], bins=bins, alpha=0.6,
            label='noise images')
    ax.set(title=f"{TITLES[kind]}\nAUROC {result['auroc']:.3f}",
           xlabel='predictive entropy (nats)')
  axes[0].set_ylabel('images')
  axes[0].legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main():
  p = protocol.parser(__doc__)
  p.add_argument('--kl-weight', type=float, default=1.,
                 help='KL weight; 1 is the ELBO, below 1 tempers')
  args = p.parse_args()
  figures = protocol.figures_dir(args.figures)
  x_train, x_test, y_train, y_test = protocol.load_dataset('digits')
  noise = np.random.RandomState(args.seed).uniform(
      size=x_test.shape).astype(np.float32)
  results = {}
  for kind in protocol.LAYERS:
    model = protocol.build_mlp(kind, 64, 10, args.seed)
    protocol.train(model, protocol.classification_nll, x_train, y_train,
                   steps=args.steps, kl_weight=args.kl_weight, seed=args.seed,
                   desc=f'{kind:>18}')
    results[kind] = protocol.evaluate(
        model, x_test, y_test, noise,
        num_samples=1 if kind == 'deterministic' else 50, seed=args.seed)
  print(f'\n{"layers":>20}  accuracy     NLL     ECE  noise AUROC')
  for kind, r in results.items():
    print(f"{kind:>20}  {r['accuracy']:8.3f}  {r['nll']:6.3f}  "
          f"{r['ece']:6.3f}  {r['auroc']:11.3f}")
  reliability_figure(results, y_test,
                     os.path.join(figures, 'reliability.png'))
  uncertain_figure(results, x_test, y_test,
                   os.path.join(figures, 'uncertain.png'))
  entropy_figure(results, os.path.join(figures, 'entropy.png'))
  print(f'saved reliability.png, uncertain.png and entropy.png in {figures}')


if __name__ == '__main__':
  main()
