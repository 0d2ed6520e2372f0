"""The application layer: the `clausebank` command line (`cli.py`) and the web app (`web/`), built on
`pipeline` (the core) and `flows` (orchestration). Nothing below imports this package."""

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "TQDM_DISABLE": "1",
}


def set_offline_env() -> None:
    """Nothing at run time may reach a model hub or send telemetry; set before heavy imports."""
    import os

    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
