"""Features: from source columns and request fields to the model's numeric matrix."""

from engine.features.encoder import FeatureEncoder, FeatureSpec, encode_target

__all__ = ["FeatureEncoder", "FeatureSpec", "encode_target"]
