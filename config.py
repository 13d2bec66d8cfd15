"""Quarterdeck configuration, read from environment variables only.

Every variable is parsed here; a malformed value raises ConfigError naming the
variable, so a mistake stops start-up instead of surfacing at 3 a.m.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _zone(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or default).strip()
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Europe/London, got {raw!r}") from None
    return raw


def _database_url(env: Mapping[str, str]) -> str:
    raw = (env.get("DATABASE_URL") or "").strip()
    if not raw:
        return f"sqlite:///{INSTANCE_DIR / 'quarterdeck.db'}"
    # Hosting platforms hand out postgres:// URLs; psycopg 3 is the only PostgreSQL driver we ship.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            raw = "postgresql+psycopg://" + raw[len(prefix):]
    scheme = raw.split("://", 1)[0]
    if scheme not in {"sqlite", "postgresql+psycopg"}:
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:// or postgresql+psycopg://, got scheme {scheme!r}"
        )
    return raw


def _base_url(env: Mapping[str, str]) -> str:
    raw = (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").strip().rstrip("/")
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) URL such as https://qd.example.com, got {raw!r}")
    return raw


def _secret_key(env: Mapping[str, str]) -> str:
    raw = (env.get("SECRET_KEY") or "").strip()
    if raw:
        if len(raw) < 16:
            raise ConfigError("SECRET_KEY must be at least 16 characters long")
        return raw
    # A single laptop needs no set-up: keep a generated key in instance/ so logins
    # survive restarts. Several app nodes must share one SECRET_KEY (README).
    key_file = INSTANCE_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _close_window(env: Mapping[str, str]) -> dict[str, object]:
    """Close mode's quarter-close window: business-day offsets around BD0, and whose public holidays count."""
    start = _int(env, "CLOSE_WINDOW_START_BD", -3, -30, 30)
    end = _int(env, "CLOSE_WINDOW_END_BD", 3, -30, 30)
    if end < start:
        raise ConfigError(f"CLOSE_WINDOW_END_BD must not be before CLOSE_WINDOW_START_BD, got {end} < {start}")
    country = (env.get("CLOSE_WINDOW_COUNTRY") or "").strip().upper()
    if country:
        import holidays  # only needed when a country is set

        if country not in holidays.list_supported_countries():
            raise ConfigError(f"CLOSE_WINDOW_COUNTRY must be a two-letter country code such as US, got {country!r}")
    return {"CLOSE_WINDOW_START_BD": start, "CLOSE_WINDOW_END_BD": end, "CLOSE_WINDOW_COUNTRY": country}


def load_config(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Return the Flask config built from `env` (default os.environ); raise ConfigError when malformed."""
    env = os.environ if env is None else env
    public_base_url = _base_url(env)
    return {
        "SECRET_KEY": _secret_key(env),
        "SQLALCHEMY_DATABASE_URI": _database_url(env),
        "PUBLIC_BASE_URL": public_base_url,
        "FISCAL_YEAR_START_MONTH": _int(env, "FISCAL_YEAR_START_MONTH", 2, 1, 12),
        "DEFAULT_TIME_ZONE": _zone(env, "DEFAULT_TIME_ZONE", "UTC"),
        "LOGIN_MAX_FAILURES": _int(env, "LOGIN_MAX_FAILURES", 5, 1, 1000),
        "LOGIN_LOCKOUT_MINUTES": _int(env, "LOGIN_LOCKOUT_MINUTES", 15, 1, 24 * 60),
        "RATELIMIT_STORAGE_URI": (env.get("RATELIMIT_STORAGE_URI") or "memory://").strip(),
        "SCHEDULER_HEARTBEAT_SECONDS": _int(env, "SCHEDULER_HEARTBEAT_SECONDS", 30, 1, 3600),
        "HEALTH_MAX_HEARTBEAT_AGE": _int(env, "HEALTH_MAX_HEARTBEAT_AGE", 120, 5, 86400),
        **_close_window(env),
        "CONTACT_REMINDER_BUSINESS_DAYS": _int(env, "CONTACT_REMINDER_BUSINESS_DAYS", 10, 1, 60),
        "VERIFICATION_CODE_MINUTES": _int(env, "VERIFICATION_CODE_MINUTES", 10, 1, 60),
        "VERIFICATION_MAX_ATTEMPTS": _int(env, "VERIFICATION_MAX_ATTEMPTS", 5, 1, 20),
        "SHIFT_REMINDER_MINUTES": _int(env, "SHIFT_REMINDER_MINUTES", 60, 1, 24 * 60),
        "TRUSTED_PROXY_HOPS": _int(env, "TRUSTED_PROXY_HOPS", 0, 0, 5),
        "PASSWORD_HASH_METHOD": (env.get("PASSWORD_HASH_METHOD") or "scrypt").strip(),
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", public_base_url.startswith("https://")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _int(env, "SESSION_HOURS", 12, 1, 24 * 30) * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead: a form left open overnight still submits
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "JSON_SORT_KEYS": False,
        "LOG_LEVEL": (env.get("LOG_LEVEL") or "INFO").strip().upper(),
    }
