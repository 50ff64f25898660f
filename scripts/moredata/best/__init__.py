"""Experiment 5, save the best model (qwerties split into train, dev and test)."""

# The section's number in REFERENCE.md (see moredata.augment.STREAM_KEY).
STREAM_KEY = 5
