"""Performer: fine-tuning DNA sequence-to-expression models (Enformer) on personal genomes."""

__version__ = "0.1.0"
