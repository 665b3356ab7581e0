"""Settings for the insecure shop: every hardening mistake in one place."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = 'django-insecure-9x$k2m!q7w@e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9'

DEBUG = True

ALLOWED_HOSTS = ['shop.example.com', '*']

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'orders',
]

MIDDLEWARE = [
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
]

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_HTTPONLY = False
AUTH_PASSWORD_VALIDATORS = []

PASSWORD_HASHERS = [
    'django.contrib.auth.hashers.UnsaltedMD5PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
]

SESSION_SERIALIZER = 'django.contrib.sessions.serializers.PickleSerializer'
