from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import QueryDict

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


def _without_nul(data: QueryDict) -> QueryDict:
    if not any("\x00" in k or any("\x00" in v for v in vs) for k, vs in data.lists()):
        return data
    clean = QueryDict(mutable=True)
    for key, values in data.lists():
        clean.setlist(key.replace("\x00", ""), [v.replace("\x00", "") for v in values])
    clean._mutable = False
    return clean


class NulCharactersMiddleware:
    """Drop U+0000 from query strings and posted forms. PostgreSQL cannot store or compare a
    string holding it, so a NUL that reached a filter or a save was a 500; no reviewer means
    one (it comes from pasted binary text or a probe). Uploaded files are left as they are."""

    FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            request.GET = _without_nul(request.GET)
        if request.method == "POST" and request.content_type in self.FORMS:
            request.POST = _without_nul(request.POST)
        return self.get_response(request)
