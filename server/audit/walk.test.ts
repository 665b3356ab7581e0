import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, removeProject } from './testing';
import { listProjectFiles } from './walk';

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map(removeProject));
});

async function project(files: Record<string, string>): Promise<string> {
  const root = await createProject(files);
  roots.push(root);
  return root;
}

describe('listProjectFiles', () => {
  it('lists Python files and templates, skipping virtualenvs, vendored code, migrations and tests', async () => {
    const root = await project({
      'manage.py': '',
      'shop/views.py': '',
      'shop/templates/shop/page.html': '',
      'shop/templates/shop/mail.txt': '',
      'shop/static/app.js': '',
      'shop/migrations/0001_initial.py': '',
      'shop/__pycache__/views.cpython-312.py': '',
      'shop/tests.py': '',
      'shop/test_views.py': '',
      'shop/views_tests.py': '',
      'shop/tests/test_models.py': '',
      'venv/lib/site.py': '',
      '.venv/lib/site.py': '',
      'env/pyvenv.cfg': 'home = /usr/bin',
      'env/lib/python3.12/site-packages/django/db.py': '',
      'node_modules/pkg/index.html': '',
      '.git/hooks/pre-commit.py': '',
      'docs/notes.md': '',
    });
    const { files, notes } = await listProjectFiles(root, { includeTests: false, excluded: [] });
    expect(files.map((file) => [file.relative, file.kind])).toEqual([
      ['manage.py', 'python'],
      ['shop/templates/shop/mail.txt', 'template'],
      ['shop/templates/shop/page.html', 'template'],
      ['shop/views.py', 'python'],
    ]);
    expect(notes).toEqual([]);
    const withTests = await listProjectFiles(root, { includeTests: true, excluded: [] });
    expect(withTests.files.map((file) => file.relative)).toEqual([
      'manage.py',
      'shop/templates/shop/mail.txt',
      'shop/templates/shop/page.html',
      'shop/test_views.py',
      'shop/tests.py',
      'shop/tests/test_models.py',
      'shop/views.py',
      'shop/views_tests.py',
    ]);
  });

  it('never follows a symlink: out of the root it is noted, inside it the real file is listed once', async () => {
    const outside = await project({ 'secret/settings.py': 'SECRET_KEY = "outside"\n' });
    const root = await project({ 'app/views.py': '', 'app/linked.py': '' });
    await symlink(path.join(outside, 'secret'), path.join(root, 'escape'));
    await symlink(path.join(outside, 'secret', 'settings.py'), path.join(root, 'app', 'escape.py'));
    await symlink(path.join(root, 'app'), path.join(root, 'app', 'loop'));
    await mkdir(path.join(root, 'real'));
    await writeFile(path.join(root, 'real', 'models.py'), '');
    await symlink(path.join(root, 'real', 'models.py'), path.join(root, 'app', 'models_link.py'));
    const { files, notes } = await listProjectFiles(root, { includeTests: false, excluded: [] });
    expect(files.map((file) => file.relative)).toEqual(['app/linked.py', 'app/views.py', 'real/models.py']);
    expect(notes.map((note) => note.file).sort()).toEqual(['app/escape.py', 'escape']);
  });

  it('applies exclude globs to directories and files', async () => {
    const root = await project({ 'legacy/old.py': '', 'app/generated_pb2.py': '', 'app/views.py': '' });
    const excluded = [
      (relative: string) => relative === 'legacy',
      (relative: string) => relative.endsWith('_pb2.py'),
    ];
    const { files } = await listProjectFiles(root, { includeTests: false, excluded });
    expect(files.map((file) => file.relative)).toEqual(['app/views.py']);
  });
});
