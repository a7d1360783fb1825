"""`examples/rank1.py`: the rank-1 table's models train and are scored."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_rank1_example_prints_a_row_per_model_with_its_parameters():
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  result = subprocess.run(
      [sys.executable, str(ROOT / 'examples' / 'rank1.py'), '--steps', '2',
       '--datasets', 'iris', '--seeds', '0'], env=env, capture_output=True,
      text=True, timeout=900, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = {line.split(' | ')[1]: line.split(' | ')[-1].rstrip(' |')
          for line in result.stdout.splitlines() if line.startswith('| iris')}
  # iris: 4 inputs, 3 classes; a plain 4-128-3 MLP has 1027 parameters.
  assert rows == {'plain': '1027', 'deep ensemble of 4': '4108',
                  'rank-1, 4 members': '3524',
                  'BatchEnsemble, 4 members': '2472',
                  'Flipout (tfnx default)': '2054'}
