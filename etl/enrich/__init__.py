"""Enrich stage: fields extracted from each article's text and metadata."""
