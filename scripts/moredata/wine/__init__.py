"""The red-wine data (UCI wine quality): download, check, clean and z-score."""
