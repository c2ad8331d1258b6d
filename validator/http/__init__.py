"""The HTTP edge: FastAPI app built by create_app()."""
