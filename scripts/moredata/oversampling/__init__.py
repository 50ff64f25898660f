"""The data oversampling lecture on MNIST (REFERENCE.md §6)."""
