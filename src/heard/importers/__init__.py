"""Importers: convert files into Conversations (formats auto-detected)."""
