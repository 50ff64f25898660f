"""The MNIST data of the oversampling and noise-augmentation lectures, and what they share."""

PIXELS = 784  # 28 x 28 per image
DIGITS = 10
