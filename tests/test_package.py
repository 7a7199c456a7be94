"""What importing the kit does to its process."""
import os
import subprocess
import sys


def _policy_seen_by_a_fresh_process(env: dict) -> str:
    code = "import ganonlib, os; print(os.environ['OMP_WAIT_POLICY'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_openmp_threads_wait_passively_unless_the_user_says_otherwise():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_seen_by_a_fresh_process(env) == "PASSIVE"
    assert _policy_seen_by_a_fresh_process({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
