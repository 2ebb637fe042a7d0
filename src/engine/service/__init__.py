"""Use cases, one module per resource. Functions take plain values and the engine's ports."""
