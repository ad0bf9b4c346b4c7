"""Settings sections, URL schemes and optional extras: configuration that imports no feature."""
