"""Custom-loop training under `MultiWorkerMirroredStrategy`: two workers on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

_TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TIMEOUT_S = 420


def _free_ports(count: int) -> list:
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(('127.0.0.1', 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _start(*args) -> subprocess.Popen:
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [_TESTS_DIR, os.path.dirname(_TESTS_DIR)] + sys.path))
  env.pop('TF_CONFIG', None)
  return subprocess.Popen(
      [sys.executable, '-m', 'conformance.multi_worker', *map(str, args)],
      cwd=_TESTS_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True)


def _report(process: subprocess.Popen) -> dict:
  try:
    stdout, stderr = process.communicate(timeout=_TIMEOUT_S)
  except subprocess.TimeoutExpired:
    process.kill()
    stdout, stderr = process.communicate()
  assert process.returncode == 0, stderr[-3000:]
  return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize('kind', ['tfn', 'keras'])
def test_two_workers_train_like_one_and_stay_identical(kind, tmp_path):
  ports = _free_ports(2)
  workers = [_start(kind, index, *ports, tmp_path) for index in range(2)]
  single = _start(kind, 'single')
  reports = [_report(worker) for worker in workers]
  alone = _report(single)
  assert [r['replicas'] for r in reports] == [2, 2]
  # All-reduced updates keep the replicas' variables identical.
  assert reports[0]['digest'] == reports[1]['digest']
  # Each replica draws its own noise in an unseeded call.
  assert not np.allclose(reports[0]['unseeded'], reports[1]['unseeded'])
  assert all(r['restores'] for r in reports)
  # Losses fall as a single worker's do.
  assert alone['end'] < 0.4 * alone['start'], alone
  for report in reports:
    assert report['end'] < 0.4 * report['start'], report
    assert report['end'] < 1.5 * alone['end'] + 0.05, (report, alone)
