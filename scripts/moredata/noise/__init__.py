"""The data noise augmentation lecture on MNIST, with devset and test (REFERENCE.md §7)."""
