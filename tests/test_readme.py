"""README's Quickstart is two commands, and CI runs the tests as it says."""

import pathlib
import re

_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _quickstart_commands() -> list:
  readme = (_ROOT / 'README.md').read_text(encoding='utf-8')
  section = readme.split('## Quickstart\n', 1)[1]
  block = re.search(r'```sh\n(.*?)```', section, re.S).group(1)
  return block.strip().splitlines()


def _normalized(command: str) -> str:
  # CI installs quietly; the flag changes nothing else.
  return ' '.join(word for word in command.split() if word != '--quiet')


def test_quickstart_installs_and_runs_the_main_example_then_the_tests():
  example, tests = _quickstart_commands()
  assert re.fullmatch(
      r'pip install -e "\.\[examples\]" && python examples/\w+\.py', example)
  assert re.fullmatch(r'pip install -e "\.\[test\]" && python -m pytest \S+',
                      tests)


def test_ci_runs_the_quickstarts_test_command():
  ci = [_normalized(line) for line in
        (_ROOT / '.ci' / 'run').read_text(encoding='utf-8').splitlines()]
  for command in _quickstart_commands()[1].split(' && '):
    assert _normalized(command) in ci, command
