"""Minimal settings: one view, no database needed to serve it."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sample-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES = {}
USE_TZ = True
