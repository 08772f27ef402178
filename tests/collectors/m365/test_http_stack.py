"""What the Graph SDK's HTTP stack (httpx, httpcore) needs installed to run without waste."""

from __future__ import annotations


def test_httpcore_finds_sniffio_so_graph_requests_import_nothing_each_time():
    """httpcore asks sniffio which async library runs at each lock, event and cancellation
    guard it sets up; without sniffio installed, each of those is a failed import searching
    the whole path (~70 us). pyproject.toml depends on it: the answer comes from sniffio."""
    import asyncio
    import sys

    from httpcore._synchronization import current_async_library

    async def ask() -> str:
        return current_async_library()

    assert asyncio.run(ask()) == "asyncio"
    assert "sniffio" in sys.modules
