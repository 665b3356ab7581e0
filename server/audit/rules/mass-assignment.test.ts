import { describe, expect, it } from 'vitest';
import { massAssignmentRule } from './mass-assignment';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(massAssignmentRule, source);

describe('code.mass-assignment', () => {
  it('fires on fields = "__all__" and exclude in ModelForms, serializers and edit views', () => {
    const source = `from django import forms
from rest_framework import serializers

class A(forms.ModelForm):
    class Meta:
        model = M
        fields = "__all__"

class B(A):
    class Meta(A.Meta):
        exclude = ("owner",)

class C(serializers.HyperlinkedModelSerializer):
    class Meta:
        fields = '__all__'

class D(UpdateView):
    model = M
    fields = "__all__"

F = modelform_factory(M, exclude=["owner"])
`;
    expect(run(source)).toEqual(['7:9', '11:9', '15:9', '19:5', '21:5']);
  });

  it('stays silent on explicit field lists and unrelated classes', () => {
    const source = `from django import forms
from django.contrib import admin

class A(forms.ModelForm):
    class Meta:
        model = M
        fields = ["name"]

class B(forms.Form):
    class Meta:
        fields = "__all__"

class C(admin.ModelAdmin):
    fields = "__all__"
    exclude = ["x"]

class D(UpdateView):
    fields = ["name", "email"]

F = modelform_factory(M, fields=["name"])
`;
    expect(run(source)).toEqual([]);
  });
});
