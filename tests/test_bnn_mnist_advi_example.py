"""`examples/bnn_mnist_advi.py`: TFP's notebook workflow runs on tfnx."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_tfp_notebook_workflow_trains_evaluates_saves_and_loads():
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  result = subprocess.run(
      [sys.executable, str(ROOT / 'examples' / 'bnn_mnist_advi.py'),
       '--steps', '2'], env=env, capture_output=True, text=True, timeout=600,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert '=== BNN ===' in result.stdout
  assert 'trainable size: 2278' in result.stdout
  assert 'it:   1' in result.stdout
  assert 'saved and reloaded 24 variables' in result.stdout
