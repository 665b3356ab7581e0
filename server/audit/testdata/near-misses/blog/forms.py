from django import forms
from rest_framework import serializers

from .models import Post


class PostForm(forms.ModelForm):
    class Meta:
        model = Post
        fields = ["title"]


class SearchForm(forms.Form):
    class Meta:
        exclude = ["secret"]


class PostSerializer(serializers.Serializer):
    class Meta:
        fields = "__all__"
