"""The MNIST data of the oversampling and noise-augmentation lectures, and what they share."""

PIXELS = 784  # 28 x 28 per image
DIGITS = 10
# The settings the MNIST table records and the training jobs check: what the file is (its
# source and checksum), not where it was fetched from.
RECORDED = ("source", "sha256")
