"""GANonymization kit: face anonymization that preserves emotional expressions (Hellmann et al., 2023)."""
import os

__version__ = "0.1.0"

# PyTorch's OpenMP threads (libgomp) spin on their cores for a while after every parallel region. Beside the
# anonymizer's extraction worker processes that spinning takes the cores the workers need: waiting passively gave
# 12 % more faces/s on 2 cores on average (benchmarks/results/anonymize_omp_wait.jsonl). libgomp reads the setting
# once, when torch loads, so it is set here, before any of the kit's modules imports torch; a user's value is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
