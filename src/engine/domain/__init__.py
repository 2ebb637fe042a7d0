"""Value objects and rules of the engine: asset configuration, versions, risk levels."""
