"""Training under `tf.distribute.MirroredStrategy` over two logical CPUs."""

import json
import os
import subprocess
import sys

import pytest

from conformance import cases

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize('case', cases.VARIATIONAL,
                         ids=cases.ids(cases.VARIATIONAL))
def test_mirrored_training_converges_like_single_device(case):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [_TESTS_DIR, os.path.dirname(_TESTS_DIR)] + sys.path))
  result = subprocess.run(
      [sys.executable, '-m', 'conformance.distributed_training', case.name],
      cwd=_TESTS_DIR, env=env, capture_output=True, text=True, timeout=300,
      check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report['replicas'] == 2
  # Both runs learn: the posterior noise the KL keeps sets each layer's own
  # floor, so progress is measured against each run's starting loss...
  assert report['single'] < 0.2 * report['single_start'], report
  assert report['mirrored'] < 0.2 * report['mirrored_start'], report
  # ...and the mirrored run ends within a factor of the single-device one.
  assert report['mirrored'] < 3 * report['single'] + 0.01, report
