"""The course's data noise augmentation lecture, on MNIST with devset and test."""
