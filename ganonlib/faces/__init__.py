"""Face extraction (paper 3.1), background removal (3.2) and landmarks (3.3)."""
