"""The data oversampling lecture on MNIST (the course's lecture on oversampling)."""
