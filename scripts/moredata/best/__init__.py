"""Experiment 5, save the best model (qwerties split into train, dev and test)."""

# The lecture's number in the README's list (see moredata.augment.STREAM_KEY).
STREAM_KEY = 5
