"""The web door: FastAPI JSON API under /api, server-rendered pages, health check."""
