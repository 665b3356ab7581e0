import { describe, expect, it } from 'vitest';
import { exposureCheck, verifyEnvFile, verifyGitConfig, verifyGitHead } from './exposure';
import { buildFacts, catchAllFacts, failedFetch, fetched, HOST, response, runCheck } from './facts-builder';

const served = (path: string, body: string, status = 200) =>
  fetched(response(`https://${HOST}${path}`, status, { headers: { 'content-type': 'text/plain' }, body }));

const ENV = `# production
DATABASE_URL=postgres://shop:Sup3rS3cret@db/shop
SECRET_KEY="k3y-v4lue-that-must-not-leak"
export DEBUG=False
`;

describe('content verifiers', () => {
  it('.env: key names only, never values', () => {
    expect(verifyEnvFile(ENV)).toBe('keys: DATABASE_URL, SECRET_KEY, DEBUG');
    expect(verifyEnvFile('<!doctype html><html><body>APP=1</body></html>')).toBeNull();
    expect(verifyEnvFile('Not Found')).toBeNull();
    expect(verifyEnvFile('{"detail": "Not found."}')).toBeNull();
  });

  it('.env: caps the number of keys shown', () => {
    const many = Array.from({ length: 12 }, (_, index) => `KEY_${index}=x`).join('\n');
    expect(verifyEnvFile(many)).toBe(
      'keys: KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, … (12 keys)',
    );
  });

  it('.git/HEAD: a ref or a SHA-1/SHA-256 commit id', () => {
    expect(verifyGitHead('ref: refs/heads/main\n')).toBe('ref: refs/heads/main');
    expect(verifyGitHead(`${'a1'.repeat(20)}\n`)).toBe('a detached commit id');
    expect(verifyGitHead(`${'b2'.repeat(32)}`)).toBe('a detached commit id');
    expect(verifyGitHead('ref: nothing')).toBeNull();
    expect(verifyGitHead(`${'a1'.repeat(19)}`)).toBeNull();
    expect(verifyGitHead('<html>ref: refs/heads/main</html>')).toBeNull();
  });

  it('.git/config: a [core] section; remote URLs (tokens) are not shown', () => {
    const config = `[core]
\trepositoryformatversion = 0
[remote "origin"]
\turl = https://deploy:ghp_T0k3n@github.com/acme/shop.git
`;
    const seen = verifyGitConfig(config);
    expect(seen).toBe('sections: [core], [remote "origin"]');
    expect(seen).not.toContain('ghp_');
    expect(verifyGitConfig('<html><body>[core]\n</body></html>')).toBeNull();
    expect(verifyGitConfig('[user]\nname = x')).toBeNull();
  });
});

describe('exposure check', () => {
  it('reports each exposed file once, with key names and no secret', () => {
    const facts = buildFacts({
      files: { '/.env': served('/.env', ENV), '/.git/HEAD': served('/.git/HEAD', 'ref: refs/heads/main\n') },
    });
    const outcome = runCheck(exposureCheck, facts);
    expect(outcome.findings.map((finding) => [finding.id, finding.severity, finding.evidence])).toEqual([
      ['exposure.file', 'critical', 'GET /.env → 200; keys: DATABASE_URL, SECRET_KEY, DEBUG'],
      ['exposure.file', 'critical', 'GET /.git/HEAD → 200; ref: refs/heads/main'],
    ]);
    expect(JSON.stringify(outcome)).not.toContain('Sup3rS3cret');
  });

  it('reports .git/config', () => {
    const facts = buildFacts({
      files: { '/.git/config': served('/.git/config', '[core]\n\tbare = false\n') },
    });
    expect(runCheck(exposureCheck, facts).findings).toHaveLength(1);
  });

  it('is silent on a catch-all site answering 200 with its HTML page everywhere', () => {
    expect(runCheck(exposureCheck, catchAllFacts())).toMatchObject({ status: 'pass', findings: [] });
  });

  it('ignores the right content behind a non-200 status', () => {
    const facts = buildFacts({ files: { '/.env': served('/.env', ENV, 403) } });
    expect(runCheck(exposureCheck, facts).findings).toEqual([]);
  });

  it('errors when no probe got an answer', () => {
    const facts = buildFacts({
      files: {
        '/.env': failedFetch('timeout'),
        '/.git/HEAD': failedFetch('timeout'),
        '/.git/config': failedFetch('timeout'),
      },
    });
    expect(runCheck(exposureCheck, facts)).toMatchObject({ status: 'error', findings: [] });
  });

  it('stays silent on the hardened site (404s)', () => {
    expect(runCheck(exposureCheck, buildFacts())).toMatchObject({ status: 'pass', findings: [] });
  });
});
