"""Server-rendered pages (filled in below)."""

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    return None
