"""The DataLoader anatomy lecture: facts about ``TensorDataset`` and ``DataLoader`` computed
live (:mod:`.facts`) and written into the report's text (``template.md``). It trains nothing:
its products declare one step (:mod:`.products`)."""
