"""Shared pytest fixtures and helpers for the tfnx test suite."""

import os
import sys

# Tests import the checkout's tfnx, whether or not it is pip-installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
