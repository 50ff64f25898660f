"""The course's data oversampling lecture, on MNIST."""
