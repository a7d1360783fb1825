"""Training under `tf.distribute.MirroredStrategy` over two logical CPUs."""

import json
import os
import subprocess
import sys

import pytest

from conformance import cases

pytestmark = pytest.mark.slow  # Training runs.

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TEST_NAME = 'test_mirrored_training_converges_like_single_device'


@pytest.fixture(scope='module')
def reports(request) -> dict:
  """Every selected case's training report, from one subprocess."""
  names = [item.callspec.params['case'].name
           for item in request.session.items
           if item.originalname == _TEST_NAME]
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [_TESTS_DIR, os.path.dirname(_TESTS_DIR)] + sys.path))
  result = subprocess.run(
      [sys.executable, '-m', 'conformance.distributed_training'] + names,
      cwd=_TESTS_DIR, env=env, capture_output=True, text=True,
      timeout=300 * len(names), check=False)
  lines = [json.loads(line) for line in result.stdout.splitlines()
           if line.startswith('{')]
  return {'stderr': result.stderr[-3000:],
          **{line.pop('case'): line for line in lines}}


# A rank-1 teacher's targets depend on each row's place in its batch (its
# member), which the per-replica batches change: no student can reach them.
# Conv2DRank1's mirrored run learns (0.317 from 7.62) but ends 1.9x above the
# single-device one (0.168) since the vectors are drawn once per member and
# call, flipped per row; its 2-member dense and 1-D/3-D siblings meet the
# bound. A known defect, kept visible until it is understood.
@pytest.mark.parametrize('case', cases.params(
    [c for c in cases.VARIATIONAL if c not in cases.RANK1_CASES],
    marks={'Conv2DRank1': pytest.mark.xfail(
        strict=True, reason='mirrored run ends 1.9x above single-device '
        'since the per-member draw of the vectors (issue 28)')}))
def test_mirrored_training_converges_like_single_device(case, reports):
  assert case.name in reports, reports['stderr']
  report = reports[case.name]
  assert 'error' not in report, report['error']
  assert report['replicas'] == 2
  # Unseeded calls work per replica, each drawing its own noise.
  assert report['replicas_differ'], report
  # Both runs learn: the posterior noise the KL keeps sets each layer's own
  # floor, so progress is measured against each run's starting loss...
  assert report['single'] < 0.4 * report['single_start'], report
  assert report['mirrored'] < 0.4 * report['mirrored_start'], report
  # ...and the mirrored run ends where the single-device one does.
  assert report['mirrored'] < 1.5 * report['single'] + 0.01, report
