"""genebench: NASA OSDR spaceflight transcriptomics as a reproducible, leakage-checked ML benchmark."""

__version__ = "0.1.0"
