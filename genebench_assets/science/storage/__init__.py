"""Tables and files on disk: atomic writes and the table store."""
