"""Settings for the test suite: the product's settings, in testing mode."""

import os

os.environ.setdefault("KAOPING_TESTING", "1")
os.environ.setdefault("JOBS_MODE", "immediate")

from kaoping.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

# Uploaded files written by module-scoped fixtures (before the per-test MEDIA_ROOT applies).
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
