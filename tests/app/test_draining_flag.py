"""The drain flag as a worker sees it: looked at no more than every CHECK_INTERVAL_SECONDS, then
remembered (the full drain, with real servers, is tests/app/test_draining.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import draining


@pytest.fixture
def flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "draining"
    monkeypatch.setenv(draining.DRAIN_FLAG_ENV, str(path))
    monkeypatch.setattr(draining, "_seen", False)
    monkeypatch.setattr(draining, "_next_check", 0.0)
    return path


def test_the_flag_is_seen_within_the_check_interval_and_then_kept(
    flag: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(draining.time, "monotonic", lambda: clock[0])
    stats: list[str] = []
    exists = draining.os.path.exists

    def counted(path: str) -> bool:
        stats.append(path)
        return exists(path)

    monkeypatch.setattr(draining.os.path, "exists", counted)

    assert not draining.is_draining()
    flag.touch()  # the master starts a drain
    assert not draining.is_draining(), "within the interval the last answer stands, without a stat"
    assert len(stats) == 1
    clock[0] += draining.CHECK_INTERVAL_SECONDS
    assert draining.is_draining()
    flag.unlink()
    clock[0] += 10 * draining.CHECK_INTERVAL_SECONDS
    assert draining.is_draining(), "a drain ends only with the process"
    assert len(stats) == 2


def test_no_flag_configured_is_never_draining(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(draining.DRAIN_FLAG_ENV, raising=False)
    monkeypatch.setattr(draining, "_seen", False)
    monkeypatch.setattr(draining, "_next_check", 0.0)
    assert not draining.is_draining()
