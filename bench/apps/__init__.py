"""The benchmark schema served by each Python framework; every module here exposes an ASGI `app`."""
