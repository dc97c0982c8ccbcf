"""The station's screens and dialogs."""
