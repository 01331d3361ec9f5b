"""``chainrule playground``: options, and the server started with them."""

from __future__ import annotations

import pytest

from chainrule.cli import main


def test_help_names_the_options(capsys: pytest.CaptureFixture) -> None:
    assert main(["playground", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--port" in out and "--no-browser" in out and "127.0.0.1" in out


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_bad_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["playground", "--port", port]) == 2
    assert "port" in capsys.readouterr().err


def test_options_reach_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvicorn", reason="needs the playground extra")
    from chainrule.playground import server

    calls = []
    monkeypatch.setattr(
        server, "serve", lambda port, open_browser: calls.append((port, open_browser))
    )
    assert main(["playground", "--port", "9001", "--no-browser"]) == 0
    assert calls == [(9001, False)]
