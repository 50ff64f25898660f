"""The data noise augmentation lecture on MNIST, with devset and test (the course's lecture on
noise augmentation)."""
