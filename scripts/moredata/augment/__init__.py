"""Experiment 4, feature augmentation (qwerties with the distance to the origin)."""

# The input columns of each variant: the plain coordinates, or with the augmented feature.
FEATURES = {"xy": ("x", "y"), "xy_distance": ("x", "y", "distance")}
# The lecture's number in the README's list: keeps this experiment's random streams apart
# from those of the depth experiment, which draws qwerties too.
STREAM_KEY = 4
