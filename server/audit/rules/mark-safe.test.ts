import { describe, expect, it } from 'vitest';
import { markSafeRule } from './mark-safe';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(markSafeRule, source);

describe('code.mark-safe', () => {
  it('fires on mark_safe/SafeString of computed strings and format_html with a computed format', () => {
    const source = `from django.utils.safestring import mark_safe, SafeString
from django.utils import html

def badge(user):
    a = mark_safe("<b>" + user.name + "</b>")
    b = SafeString(f"<i>{user.bio}</i>")
    c = html.format_html(f"<p>{user.name}</p>")
    text = user.bio
    return mark_safe(text)
`;
    expect(run(source)).toEqual(['5:9', '6:9', '7:9', '9:12']);
  });

  it('stays silent on literals, module constants and format_html with a literal format', () => {
    const source = `from django.utils.safestring import mark_safe
from django.utils.html import format_html

ICON = "<svg></svg>"

def badge(user):
    label = "<b>New</b>"
    return mark_safe("<b>literal</b>") + mark_safe(ICON) + mark_safe(label) + format_html("<b>{}</b>", user.name)
`;
    expect(run(source)).toEqual([]);
  });
});
