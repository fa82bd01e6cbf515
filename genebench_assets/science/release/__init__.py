"""The published GeneLab release: reading it and reproducing its tables."""
