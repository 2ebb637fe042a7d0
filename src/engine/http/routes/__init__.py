"""Routes of the REST contract, one module per resource; each route is one call to the engine."""
