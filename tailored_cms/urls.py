from django.urls import path

app_name = "tailored_cms"

urlpatterns: list = []
