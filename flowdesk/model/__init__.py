"""The workflow document: models, commands, file format and validation. No Qt, no database."""
