"""Reading what a user hands in (files, identifiers, output paths) within fixed bounds."""
