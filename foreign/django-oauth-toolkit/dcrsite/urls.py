from django.urls import include, path

# DOT's URLconf mounted at the root, so its RFC 8414 document is at
# /.well-known/oauth-authorization-server (docs/oauth2_server_metadata.rst) and registration at
# /register/, management at /register/<client_id>/, the token endpoint at /token/.
urlpatterns = [
    path("", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
