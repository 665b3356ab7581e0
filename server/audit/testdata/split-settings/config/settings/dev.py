from .base import *  # noqa: F403

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-key")
DEBUG = True
MIDDLEWARE += ["debug_toolbar.middleware.DebugToolbarMiddleware"]
