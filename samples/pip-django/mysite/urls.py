import django
from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse(f"Hello from Django {django.get_version()}\n")


urlpatterns = [path("", index)]
