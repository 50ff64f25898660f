"""How balanced is balanced enough? The lecture's thought experiment, measured (REFERENCE §8)."""
