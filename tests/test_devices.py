"""How a process that runs large models on the CPU keeps its memory."""
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")

# the kit's generator at 512 px, batch 2: activations of 32-128 MiB, above glibc's largest mmap threshold; the
# page faults of each of five passes after the first (the median: with the setting, the heap may still grow by an
# activation or two in the second pass, from run to run differently, and then stays put)
_FAULTS = """
import resource, statistics, sys
import torch
from ganonlib.devices import keep_freed_memory
from ganonlib.models.networks import define_G
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
generator, x = define_G().eval(), torch.zeros(2, 3, 512, 512)
faults = []
with torch.inference_mode():
    generator(x)
    for _ in range(5):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        generator(x)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(applied, statistics.median(faults))
"""


def _fresh_python(code: str, *args: str, **env: str) -> list[str]:
    """``code`` run by a new interpreter (glibc reads its settings once, at start) without the caller's MALLOC_*
    variables, plus ``env``: its printed words."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    return subprocess.run([sys.executable, "-c", code, *args], env={**base, **env}, capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.slow
def test_a_generator_pass_reuses_the_memory_of_the_previous_one():
    applied, faults = _fresh_python(_FAULTS, "keep")
    _, faults_by_default = _fresh_python(_FAULTS, "glibc")
    assert applied == "True"
    # by default every large activation is mapped afresh and faulted in page by page (~130,000 pages a pass)
    assert float(faults_by_default) > 50_000
    assert float(faults) < float(faults_by_default) / 20


def test_a_users_own_malloc_setting_is_kept():
    code = "from ganonlib.devices import keep_freed_memory; print(keep_freed_memory())"
    assert _fresh_python(code, MALLOC_TRIM_THRESHOLD_="131072") == ["False"]
