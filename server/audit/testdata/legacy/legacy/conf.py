SECRET_KEY = "short-key"
INSTALLED_APPS = ("django.contrib.auth",)
MIDDLEWARE_CLASSES = (
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
)
ALLOWED_HOSTS = ["legacy.example.com"]
ALLOWED_HOSTS += ["*"]
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
