"""Urdu text stage: normalization and segmentation, pure functions over strings."""
