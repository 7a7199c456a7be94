"""Trainers: the GAN (paper 3.4) and, later, the classifiers of the evaluation."""
