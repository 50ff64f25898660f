"""How balanced is balanced enough? The imbalance lecture's thought experiment, measured."""
