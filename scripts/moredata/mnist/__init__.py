"""The MNIST data of the oversampling and noise-augmentation lectures, and what they share."""
