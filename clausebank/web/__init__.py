"""The negotiator's web app: `create_app(home)` builds it, `serve(home, host, port)` runs it (uvicorn)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .auth import TokenError, resolve_token

SERVER_FILE = "server.json"  # in <home>/web/: where a running app answers, for `clausebank search`


def serve(home: Path | str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the app; beyond 127.0.0.1 only with an access token (CLAUSEBANK_TOKEN or a generated one,
    printed once here). Raises TokenError when the given token is unusable."""
    import uvicorn

    from .app import create_app

    token, generated = resolve_token(host, os.environ.get("CLAUSEBANK_TOKEN"))
    app = create_app(home, token=token, public=token is not None and not _local(host))
    print(f"serving {home} on http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    if generated:
        print(f"access token (give it to your colleagues; it is not shown again): {token}", file=sys.stderr,
              flush=True)
    announce = Path(home) / "web" / SERVER_FILE
    announce.parent.mkdir(parents=True, exist_ok=True)
    local_url = f"http://127.0.0.1:{port}" if host in ("0.0.0.0", "::") or _local(host) else f"http://{host}:{port}"
    announce.write_text(json.dumps({"url": local_url, "pid": os.getpid(), "token_required": token is not None}))
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        announce.unlink(missing_ok=True)


def running_server(home: Path | str) -> dict | None:
    """The app serving this home on this machine, if one is running: {"url", "pid", "token_required"}."""
    try:
        info = json.loads((Path(home) / "web" / SERVER_FILE).read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return info


def _local(host: str) -> bool:
    from .auth import is_local

    return is_local(host)


__all__ = ["serve", "running_server", "TokenError", "SERVER_FILE"]
