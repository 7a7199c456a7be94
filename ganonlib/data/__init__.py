"""Datasets in their official layouts, the bundled sample, and the preprocessing run over them."""
