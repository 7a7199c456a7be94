"""Paper tables and figures, regenerated beside the published values."""
