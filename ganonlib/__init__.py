"""GANonymization kit: face anonymization that preserves emotional expressions (Hellmann et al., 2023)."""
__version__ = "0.1.0"
