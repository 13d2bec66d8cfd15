"""Quarterdeck configuration, read from environment variables only.

Every variable is parsed here; a malformed value raises ConfigError naming the
variable, so a mistake stops start-up instead of surfacing at 3 a.m.
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, urlparse
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


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    raw = (env.get(name) or default).strip()
    value = raw.upper() if upper else raw.lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def _networks(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """Comma-separated CIDR networks (127.0.0.1/32, 10.0.0.0/8, ::1/128); each is checked here."""
    import ipaddress

    raw = env.get(name)
    raw = default if raw is None else raw
    networks = []
    for part in (piece.strip() for piece in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ConfigError(f"{name} must list networks such as 127.0.0.1/32,10.0.0.0/8, got {part!r}") from None
    return tuple(networks)


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
    """The close region (its zone's dates, its country's public holidays) and close mode's window around BD0."""
    start = _int(env, "CLOSE_WINDOW_START_BD", -3, -30, 30)
    end = _int(env, "CLOSE_WINDOW_END_BD", 3, -30, 30)
    if end < start:
        raise ConfigError(f"CLOSE_WINDOW_END_BD must not be before CLOSE_WINDOW_START_BD, got {end} < {start}")
    country = (env.get("CLOSE_WINDOW_COUNTRY") or "").strip().upper()
    if country:
        import holidays  # only needed when a country is set

        if country not in holidays.list_supported_countries():
            raise ConfigError(f"CLOSE_WINDOW_COUNTRY must be a two-letter country code such as US, got {country!r}")
    return {"CLOSE_WINDOW_START_BD": start, "CLOSE_WINDOW_END_BD": end, "CLOSE_WINDOW_COUNTRY": country,
            "CLOSE_TIME_ZONE": _zone(env, "CLOSE_TIME_ZONE", "UTC")}


def _pattern(env: Mapping[str, str], name: str, pattern: str, example: str) -> str:
    raw = (env.get(name) or "").strip()
    if raw and not re.fullmatch(pattern, raw):
        raise ConfigError(f"{name} must look like {example}, got {raw[:6]!r}...")
    return raw


def _e164(env: Mapping[str, str], name: str) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        return ""
    import phonenumbers  # only needed when a number is set

    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if not raw.startswith("+") or number is None or not phonenumbers.is_valid_number(number):
        raise ConfigError(f"{name} must be a phone number in E.164 form such as +14155550100, got {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _twilio(env: Mapping[str, str]) -> dict[str, object]:
    """Twilio is on only when fully configured: nothing set means off, half set stops start-up."""
    token_pattern, token_example = r"[A-Za-z0-9]{16,128}", "32 letters and digits"
    settings = {
        "TWILIO_ACCOUNT_SID": _pattern(env, "TWILIO_ACCOUNT_SID", r"AC[0-9a-fA-F]{32}", "AC followed by 32 hex digits"),
        "TWILIO_AUTH_TOKEN": _pattern(env, "TWILIO_AUTH_TOKEN", token_pattern, token_example),
        "TWILIO_AUTH_TOKEN_SECONDARY": _pattern(env, "TWILIO_AUTH_TOKEN_SECONDARY", token_pattern, token_example),
        "TWILIO_FROM_NUMBER": _e164(env, "TWILIO_FROM_NUMBER"),
        "TWILIO_MESSAGING_SERVICE_SID": _pattern(env, "TWILIO_MESSAGING_SERVICE_SID", r"MG[0-9a-fA-F]{32}",
                                                 "MG followed by 32 hex digits"),
        "TWILIO_API_BASE_URL": (env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com").strip().rstrip("/"),
        "TWILIO_TIMEOUT_SECONDS": _int(env, "TWILIO_TIMEOUT_SECONDS", 10, 1, 120),
    }
    api = urlparse(settings["TWILIO_API_BASE_URL"])
    if api.scheme not in {"http", "https"} or not api.netloc:
        raise ConfigError(f"TWILIO_API_BASE_URL must be an http(s) URL, got {settings['TWILIO_API_BASE_URL']!r}")
    sid, token = settings["TWILIO_ACCOUNT_SID"], settings["TWILIO_AUTH_TOKEN"]
    sender = settings["TWILIO_FROM_NUMBER"] or settings["TWILIO_MESSAGING_SERVICE_SID"]
    if any((sid, token, sender, settings["TWILIO_AUTH_TOKEN_SECONDARY"])):
        missing = [name for name, value in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token),
                                            ("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID", sender))
                   if not value]
        if missing:
            raise ConfigError(f"Twilio is half configured: set {' and '.join(missing)}, or unset every TWILIO_ "
                              "variable to use the console instead")
    return settings


def _smtp(env: Mapping[str, str]) -> dict[str, object]:
    """SMTP_URL such as smtp://user:pass@host:25, smtp://host:587?starttls=true or smtps://host:465; unset: off."""
    url = (env.get("SMTP_URL") or "").strip()
    if url:
        parts = urlparse(url)
        try:
            parts.port  # noqa: B018 - raises ValueError for a malformed port
            port_ok = True
        except ValueError:
            port_ok = False
        starttls = parse_qs(parts.query).get("starttls", ["false"])[-1].strip().lower()
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname or not port_ok or \
                starttls not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise ConfigError("SMTP_URL must look like smtp://user:password@host:25, smtp://host:587?starttls=true "
                              f"or smtps://host:465, got scheme {parts.scheme!r} host {parts.hostname!r}")
    sender = (env.get("SMTP_FROM") or "quarterdeck@localhost").strip()
    if "@" not in parseaddr(sender)[1]:
        raise ConfigError(f"SMTP_FROM must be an email address such as quarterdeck@example.com, got {sender!r}")
    return {"SMTP_URL": url, "SMTP_FROM": sender,
            "SMTP_TIMEOUT_SECONDS": _int(env, "SMTP_TIMEOUT_SECONDS", 10, 1, 120)}


def _throttle(env: Mapping[str, str], name: str, default: str) -> tuple[int, int] | None:
    """"5/15" -> at most 5 messages per 15 minutes to one contact method; "off" -> no limit."""
    raw = (env.get(name) or default).strip().lower()
    if raw in {"off", "none", "0"}:
        return None
    match = re.fullmatch(r"(\d{1,3})\s*/\s*(\d{1,4})", raw)
    if not match or not int(match.group(1)) or not 1 <= int(match.group(2)) <= 1440:
        raise ConfigError(f"{name} must look like 5/15 (at most 5 per 15 minutes) or off, got {raw!r}")
    return int(match.group(1)), int(match.group(2))


def _paging(env: Mapping[str, str]) -> dict[str, object]:
    return {
        "ENGINE_TICK_SECONDS": _int(env, "ENGINE_TICK_SECONDS", 5, 1, 60),
        "ENGINE_SEND_CONCURRENCY": _int(env, "ENGINE_SEND_CONCURRENCY", 48, 1, 128),
        "ENGINE_LEASE_SECONDS": _int(env, "ENGINE_LEASE_SECONDS", 60, 10, 600),
        "ENGINE_MAX_TICK_AGE": _int(env, "ENGINE_MAX_TICK_AGE", 60, 5, 3600),
        "HEALTH_UNPAGED_ALERT_SECONDS": _int(env, "HEALTH_UNPAGED_ALERT_SECONDS", 120, 10, 86400),
        "SEND_MAX_ATTEMPTS": _int(env, "SEND_MAX_ATTEMPTS", 5, 1, 20),
        "THROTTLE_SMS": _throttle(env, "THROTTLE_SMS", "5/15"),
        "THROTTLE_VOICE": _throttle(env, "THROTTLE_VOICE", "3/15"),
        "THROTTLE_EMAIL": _throttle(env, "THROTTLE_EMAIL", "20/15"),
    }


def _vendor_reminder_offsets(env: Mapping[str, str]) -> tuple[int, ...]:
    """Business-day offsets before quarter close (BD0) at which vendor owners are reminded, e.g. "-20,-10"."""
    name, raw = "VENDOR_REMINDER_OFFSETS", env.get("VENDOR_REMINDER_OFFSETS")
    if raw is None or raw.strip() == "":
        return (-20, -10)
    offsets = []
    for part in raw.split(","):
        text = part.strip().upper().removeprefix("BD")
        try:
            offsets.append(int(text))
        except ValueError:
            raise ConfigError(f"{name} must be business-day offsets before close such as -20,-10, "
                              f"got {raw!r}") from None
    if any(not -60 <= offset <= 0 for offset in offsets):
        raise ConfigError(f"{name} offsets must be between -60 and 0 (BD0 is the close day), got {raw!r}")
    if len(set(offsets)) != len(offsets):
        raise ConfigError(f"{name} lists an offset twice, got {raw!r}")
    return tuple(sorted(offsets))


READINESS_TRACKS = ("risks", "jobs", "vendors", "drtest", "people", "checklist", "lessons", "runbooks",
                    "incidents")


def _readiness_weights(env: Mapping[str, str]) -> dict[str, int]:
    """Weights of the readiness tracks, e.g. "risks=30,lessons=0"; tracks left out keep their defaults."""
    name, raw = "READINESS_WEIGHTS", env.get("READINESS_WEIGHTS")
    weights: dict[str, int] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        track, _, value = part.partition("=")
        track = track.strip().lower()
        if track not in READINESS_TRACKS or not value.strip().isdigit() or int(value) > 1000:
            raise ConfigError(f"{name} must be track=weight pairs (weights 0..1000) with tracks among "
                              f"{', '.join(READINESS_TRACKS)}, got {raw!r}")
        weights[track] = int(value)
    return weights


RATELIMIT_SCHEMES = ("memory", "redis", "rediss", "redis+unix")


def _ratelimit_storage(env: Mapping[str, str]) -> dict[str, object]:
    """Where every throttle counts (sign-ins, pings, SMS replies): memory:// (one process) or a Redis server."""
    raw = (env.get("RATELIMIT_STORAGE_URI") or "memory://").strip()
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in RATELIMIT_SCHEMES:
        raise ConfigError(f"RATELIMIT_STORAGE_URI must be memory:// or a Redis URL such as redis://127.0.0.1:6379, "
                          f"got {raw!r}")
    if scheme != "memory":
        parts = urlparse(raw)
        try:
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            raise ConfigError(f"RATELIMIT_STORAGE_URI has a malformed port: {raw!r}") from None
        if scheme != "redis+unix" and not parts.hostname:
            raise ConfigError(f"RATELIMIT_STORAGE_URI must name a host, e.g. redis://127.0.0.1:6379, got {raw!r}")
        try:
            import redis  # noqa: F401  (the client the limiter uses; in requirements.txt)
        except ImportError:
            raise ConfigError("RATELIMIT_STORAGE_URI is a Redis URL but the 'redis' package is not installed: "
                              "pip install -r requirements.txt") from None
    prefix = (env.get("RATELIMIT_KEY_PREFIX") or "quarterdeck").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", prefix):
        raise ConfigError(f"RATELIMIT_KEY_PREFIX must be 1-64 letters, digits or _.:- characters, got {prefix!r}")
    return {
        "RATELIMIT_STORAGE_URI": raw,
        "RATELIMIT_KEY_PREFIX": prefix,
        # A Redis outage must not turn every sign-in and ping into a 500: count in memory until it is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": scheme != "memory",
        "WEB_WORKERS": _web_workers(env),
    }


def _web_workers(env: Mapping[str, str]) -> int:
    """How many web worker processes this node runs, as far as the environment tells (gunicorn's own
    WEB_CONCURRENCY, or --workers/-w in GUNICORN_CMD_ARGS or on gunicorn's command line); 1 when unknown."""
    import shlex
    import sys

    candidates = [env.get("WEB_CONCURRENCY") or ""]
    words = shlex.split(env.get("GUNICORN_CMD_ARGS") or "")
    if sys.argv and sys.argv[0].endswith("gunicorn"):
        words += sys.argv[1:]
    for index, word in enumerate(words):
        if word in {"-w", "--workers"} and index + 1 < len(words):
            candidates.append(words[index + 1])
        elif word.startswith("--workers="):
            candidates.append(word.split("=", 1)[1])
        elif word.startswith("-w") and word[2:].isdigit():
            candidates.append(word[2:])
    counts = [int(value) for value in candidates if value.strip().isdigit()]
    return max(counts, default=1)


def _watchlist(env: Mapping[str, str]) -> dict[str, object]:
    """The critical job watch list: ping early tolerance, per-URL throttle, run history size, catch-up grouping."""
    rate = (env.get("PING_RATE_LIMIT") or "60 per minute").strip()
    if not re.fullmatch(r"\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?", rate):
        raise ConfigError(f"PING_RATE_LIMIT must look like '60 per minute', got {rate!r}")
    return {
        "PING_EARLY_TOLERANCE_SECONDS": _int(env, "PING_EARLY_TOLERANCE_SECONDS", 60, 0, 3600),
        "PING_RATE_LIMIT": rate,
        "WATCHLIST_RUNS_PER_JOB": _int(env, "WATCHLIST_RUNS_PER_JOB", 1000, 10, 100_000),
        "WATCHLIST_RUN_RETENTION_DAYS": _int(env, "WATCHLIST_RUN_RETENTION_DAYS", 400, 30, 3650),
        "WATCHLIST_CATCHUP_MINUTES": _int(env, "WATCHLIST_CATCHUP_MINUTES", 5, 1, 1440),
        "WATCHLIST_CATCHUP_MIN_JOBS": _int(env, "WATCHLIST_CATCHUP_MIN_JOBS", 3, 2, 1000),
        # `flask demo` turns this on for its scheduler: the demo jobs ping by themselves (one keeps failing).
        "DEMO_SIMULATED_PINGS": _bool(env, "DEMO_SIMULATED_PINGS", False),
    }


def checked_runbooks_dir(raw: str | Path) -> str:
    """The runbooks folder as an absolute path; ConfigError naming RUNBOOKS_DIR when it is not a folder.

    Only checked here, never read: indexing is the scheduler's and `flask runbooks sync`'s work.
    """
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise ConfigError(f"RUNBOOKS_DIR must be an existing folder of Markdown runbooks, got {str(raw)!r}")
    return str(path.resolve())


def _runbooks(env: Mapping[str, str]) -> dict[str, object]:
    raw = (env.get("RUNBOOKS_DIR") or "").strip()
    return {"RUNBOOKS_DIR": checked_runbooks_dir(raw or BASE_DIR / "runbooks")}


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
        **_ratelimit_storage(env),
        "SCHEDULER_HEARTBEAT_SECONDS": _int(env, "SCHEDULER_HEARTBEAT_SECONDS", 30, 1, 3600),
        "HEALTH_MAX_HEARTBEAT_AGE": _int(env, "HEALTH_MAX_HEARTBEAT_AGE", 120, 5, 86400),
        **_close_window(env),
        **_twilio(env),
        **_smtp(env),
        **_paging(env),
        "CONTACT_REMINDER_BUSINESS_DAYS": _int(env, "CONTACT_REMINDER_BUSINESS_DAYS", 10, 1, 60),
        "VENDOR_REMINDER_OFFSETS": _vendor_reminder_offsets(env),
        "READINESS_WEIGHTS": _readiness_weights(env),
        "VERIFICATION_CODE_MINUTES": _int(env, "VERIFICATION_CODE_MINUTES", 10, 1, 60),
        "VERIFICATION_MAX_ATTEMPTS": _int(env, "VERIFICATION_MAX_ATTEMPTS", 5, 1, 20),
        "SHIFT_REMINDER_MINUTES": _int(env, "SHIFT_REMINDER_MINUTES", 60, 1, 24 * 60),
        "DRTEST_REMINDER_DAYS": _int(env, "DRTEST_REMINDER_DAYS", 2, 0, 60),  # remind participants N days before
        "DRTEST_EVIDENCE_MAX_MB": _int(env, "DRTEST_EVIDENCE_MAX_MB", 10, 1, 100),
        # Any request body bigger than this is refused with 413 while it is read (DR evidence uploads have their
        # own limit, DRTEST_EVIDENCE_MAX_MB); a form field may use all of it (a pasted CSV).
        "REQUEST_MAX_KB": _int(env, "REQUEST_MAX_KB", 2048, 16, 100 * 1024),
        "MAX_FORM_MEMORY_SIZE": _int(env, "REQUEST_MAX_KB", 2048, 16, 100 * 1024) * 1024,
        "DRTEST_EVIDENCE_DIR": (env.get("DRTEST_EVIDENCE_DIR") or str(INSTANCE_DIR / "drtest-evidence")).strip(),
        **_watchlist(env),
        **_runbooks(env),
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
        # A connection the database dropped (a restart, a failover, an outage) is noticed and replaced on
        # checkout instead of failing the next request or engine pass.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JSON_SORT_KEYS": False,
        "LOG_LEVEL": _choice(env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), upper=True),
        "LOG_FORMAT": _choice(env, "LOG_FORMAT", "text", ("text", "json")),
        "METRICS_ALLOWED_NETWORKS": _networks(env, "METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128"),
        "METRICS_TOKEN": (env.get("METRICS_TOKEN") or "").strip(),
        "SCHEDULER_METRICS_PORT": _int(env, "SCHEDULER_METRICS_PORT", 0, 0, 65535),
        "SCHEDULER_METRICS_ADDRESS": (env.get("SCHEDULER_METRICS_ADDRESS") or "127.0.0.1").strip(),
    }
