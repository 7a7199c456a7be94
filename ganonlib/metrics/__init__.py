"""Evaluation metrics of the paper (section 4) and beyond it."""
