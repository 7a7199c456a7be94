"""Anonymization methods: GANonymization (ours) and, beside it, the baselines of the evaluation."""
