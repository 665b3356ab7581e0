import { describe, expect, it } from 'vitest';
import { lineStarts, positionAt } from './finding';
import { templateSafeHits, tokenizeTemplate } from './template';

function hitLines(source: string): string[] {
  const starts = lineStarts(source);
  return templateSafeHits(tokenizeTemplate(source)).map((hit) => {
    const { line, column } = positionAt(starts, hit.at);
    return `${line}:${column}`;
  });
}

describe('tokenizeTemplate', () => {
  it('splits variables, blocks, comments and text like Django’s lexer', () => {
    const tokens = tokenizeTemplate('<p>{{ a|upper }}</p>{% if x %}{# note #}{% endif %}');
    expect(tokens.map((token) => [token.kind, token.content])).toEqual([
      ['text', '<p>'],
      ['variable', 'a|upper'],
      ['text', '</p>'],
      ['block', 'if x'],
      ['comment', 'note'],
      ['block', 'endif'],
    ]);
  });

  it('does not let a tag span lines and ignores escaped braces', () => {
    const tokens = tokenizeTemplate('{{ a\n}} &#123;&#123; b|safe &#125;&#125; { {c} }');
    expect(tokens.map((token) => token.kind)).toEqual(['text']);
  });
});

describe('code.template-safe', () => {
  it('fires on |safe, |safeseq, autoescape off and safe inside block tags', () => {
    const source = `<div>{{ body|safe }}</div>
{{ items|safeseq|join:", " }}
{% autoescape off %}{{ x }}{% endautoescape %}
{% filter force_escape|safe %}{{ y }}{% endfilter %}
  {% with intro=page.intro|safe %}{{ intro }}{% endwith %}
{{ body|default:"-"|safe }}
`;
    expect(hitLines(source)).toEqual(['1:6', '2:1', '3:1', '4:1', '5:3', '6:1']);
  });

  it('never fires on code samples, comments, verbatim blocks or literal values', () => {
    const source = `<pre><code>&#123;&#123; body|safe &#125;&#125;</code></pre>
<p>Use <code>|safe</code> only for trusted HTML; never {% templatetag openvariable %} x|safe {% templatetag closevariable %}.</p>
{# {{ body|safe }} #}
{% comment %}{{ body|safe }}{% autoescape off %}{% endcomment %}
{% verbatim %}{{ body|safe }}{% endverbatim %}
{{ "<b>static</b>"|safe }}
{{ body|default:"a|safe" }}
{{ body|safeish }}
{% autoescape on %}{{ body }}{% endautoescape %}
{% trans "x|safe" %}
`;
    expect(hitLines(source)).toEqual([]);
  });

  it('resumes checking after a verbatim block ends', () => {
    expect(hitLines('{% verbatim %}{{ a|safe }}{% endverbatim %}\n{{ b|safe }}')).toEqual(['2:1']);
  });
});
