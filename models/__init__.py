"""Model manifest and resolution of model files (embedded defaults and user downloads)."""
