import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { auditProject } from './audit';
import { globMatcher, loadAuditConfig } from './config';
import { createProject, removeProject } from './testing';

describe('globMatcher', () => {
  it('matches like .gitignore: bare names anywhere, paths from the root, ** across directories', () => {
    expect(globMatcher('legacy')('legacy')).toBe(true);
    expect(globMatcher('legacy')('src/legacy/views.py')).toBe(true);
    expect(globMatcher('legacy')('src/legacy_views.py')).toBe(false);
    expect(globMatcher('*.html')('app/templates/x.html')).toBe(true);
    expect(globMatcher('app/*.py')('app/views.py')).toBe(true);
    expect(globMatcher('app/*.py')('app/sub/views.py')).toBe(false);
    expect(globMatcher('app/*.py')('other/app/views.py')).toBe(false);
    expect(globMatcher('**/generated/**')('a/b/generated/x.py')).toBe(true);
    expect(globMatcher('scripts/')('scripts/run.py')).toBe(true);
    expect(globMatcher('file?.py')('file1.py')).toBe(true);
  });
});

describe('project config', () => {
  let root = '';
  afterEach(() => removeProject(root));

  const INSECURE_CODE =
    'def view(request, pk):\n    return eval(request.GET["x"]), Order.objects.get(pk=pk)\n';

  it('reads [tool.vigil.audit] from pyproject.toml and [audit] from vigil.toml', async () => {
    root = await createProject({
      'pyproject.toml':
        '[project]\nname = "shop"\n\n[tool.vigil.audit]\nexclude = ["legacy/**", "scripts"]\ndisable = ["code.idor"]\n',
      'vigil.toml': '[audit]\ninclude-tests = true\n',
      'app/views.py': INSECURE_CODE,
      'legacy/views.py': INSECURE_CODE,
      'scripts/run.py': INSECURE_CODE,
      'tests/test_views.py': INSECURE_CODE,
    });
    expect(await loadAuditConfig(root)).toEqual({
      exclude: ['legacy/**', 'scripts'],
      includeTests: true,
      disable: ['code.idor'],
      sources: ['pyproject.toml', 'vigil.toml'],
    });
    const report = await auditProject(root);
    expect(report.findings.map((f) => `${f.location.file} ${f.id}`)).toEqual([
      'app/views.py code.command-injection',
      'tests/test_views.py code.command-injection',
    ]);
  });

  it('refuses unknown keys, unknown IDs and broken TOML with a clear message', async () => {
    root = await createProject({ 'vigil.toml': '[audit]\nexcludes = ["x"]\n' });
    await expect(loadAuditConfig(root)).rejects.toThrow(/vigil.toml \[audit\].*excludes/);
    await removeProject(root);
    root = await createProject({ 'pyproject.toml': '[tool.vigil.audit]\ndisable = ["code.sqli"]\n' });
    await expect(loadAuditConfig(root)).rejects.toThrow('unknown finding ID "code.sqli"');
    await removeProject(root);
    root = await createProject({ 'vigil.toml': '[audit\n' });
    const failure = await loadAuditConfig(root).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).message).toMatch(/^vigil.toml: not valid TOML/);
  });

  it('has defaults when there is no config at all', async () => {
    root = await createProject({ 'app/views.py': INSECURE_CODE });
    expect(await loadAuditConfig(root)).toEqual({
      exclude: [],
      includeTests: false,
      disable: [],
      sources: [],
    });
  });
});
