"""The inspector's terminal UI (Textual): thin screens over the station service."""
