from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import path


def index(request):
    return HttpResponse(f"Stylesheet: {static('css/site.css')}\n")


urlpatterns = [path("", index)]
