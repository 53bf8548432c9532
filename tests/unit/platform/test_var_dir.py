"""The data directory holds the embedded database: another OMNIRETAIL_VAR_DIR is another instance."""

from pathlib import Path

from omniretail.platform.config import Settings


def test_the_embedded_database_lives_in_the_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("OMNIRETAIL_DATABASE_URL", raising=False)
    monkeypatch.delenv("OMNIRETAIL_VAR_DIR", raising=False)
    monkeypatch.setenv("OMNIRETAIL_CONFIG", str(tmp_path / "none.toml"))
    assert Settings().database_url == "sqlite+aiosqlite:///./var/omniretail.db"
    assert Settings(var_dir=Path("data/second")).database_url == "sqlite+aiosqlite:///./data/second/omniretail.db"
    monkeypatch.setenv("OMNIRETAIL_VAR_DIR", str(tmp_path))
    assert Settings().database_url == f"sqlite+aiosqlite:///{tmp_path}/omniretail.db"
    monkeypatch.setenv("OMNIRETAIL_DATABASE_URL", "postgresql://db.example/shop")
    assert Settings().database_url == "postgresql://db.example/shop"  # a URL given wins
