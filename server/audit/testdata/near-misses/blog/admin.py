from django.contrib import admin

from .models import Post


class PostAdmin(admin.ModelAdmin):
    fields = "__all__"

    class Meta:
        fields = "__all__"


admin.site.register(Post, PostAdmin)
