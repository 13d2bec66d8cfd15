"""Entry point for gunicorn (`gunicorn wsgi:app`) and the flask CLI (`flask --app wsgi ...`)."""
import gc
import sys

# Start-up makes a few hundred thousand objects that live as long as the process (modules, classes, the mapped
# models, the URL map), and the collector kept running full collections over them while they were being made and
# again at exit: a process start (every gunicorn worker, the scheduler, each `flask` command) took 1.8 s of CPU, now
# 1.0 s (bench/startup.py). It is off while the app is built; then what start-up made is frozen (left out of every
# later collection, with the two thousand-odd unreachable objects start-up leaves, a few hundred kilobytes) and
# collection resumes.
gc.disable()
try:
    from app import create_app
    from config import ConfigError

    try:
        app = create_app()
    except ConfigError as error:
        sys.exit(f"Quarterdeck cannot start: {error}")
finally:
    gc.freeze()
    gc.enable()
