from django.conf import settings
from django.contrib.auth.views import redirect_to_login

# Paths reachable without a session: the login page itself, static files and the API
# (which answers 401/403 itself so token clients get JSON, not a redirect).
PUBLIC_PREFIXES = ("/accounts/login/", "/static/", "/api/", "/favicon.ico")


class LoginRequiredMiddleware:
    """Login is required everywhere in the web app."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(PUBLIC_PREFIXES):
            if request.headers.get("HX-Request"):
                from django.http import HttpResponse
                from django.shortcuts import resolve_url

                resp = HttpResponse(status=401)
                resp["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                return resp
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
