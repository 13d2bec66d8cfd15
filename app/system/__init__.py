"""The home page, health, heartbeats and the engine's own figures."""
