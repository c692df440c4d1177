"""Kaoping (考评): assessment of party-building work for government agencies."""

__version__ = "0.1.0"
