"""docs/playground.md stays true: its set-up URLs are valid settings and its pictures exist."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from chainrule.playground.config import Config

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = (DOCS / "playground.md").read_text(encoding="utf-8")
URLS = re.findall(r"`(\?[^`]+)`", PAGE)


def test_the_page_has_set_up_urls_and_pictures() -> None:
    assert len(URLS) >= 10
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", PAGE)
    assert len(pictures) >= 8
    for picture in pictures:
        path = DOCS / picture
        assert path.is_file(), picture
        assert path.stat().st_size < 150_000, f"{picture} is too large for the repository"


@pytest.mark.parametrize("query", URLS)
def test_every_set_up_url_is_accepted(query: str) -> None:
    settings = dict(parse_qsl(query[1:]))
    config = Config().update(settings)
    assert config != Config()
