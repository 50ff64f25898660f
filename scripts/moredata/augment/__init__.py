"""Experiment 4, feature augmentation (qwerties with the distance to the origin)."""

# The input columns of each variant: the plain coordinates, or with the augmented feature.
FEATURES = {"xy": ("x", "y"), "xy_distance": ("x", "y", "distance")}
# The lecture's number in the README's list: keeps this experiment's random streams apart
# from those of lecture 2 (data size), which draws qwerties too.
STREAM_KEY = 4
