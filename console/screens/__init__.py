"""The console's screens and dialogs, one module each."""
