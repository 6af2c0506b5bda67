# Pages (urlpatterns) and API routes under /api/v1/ (api_urlpatterns) of this app.
urlpatterns: list = []
api_urlpatterns: list = []
