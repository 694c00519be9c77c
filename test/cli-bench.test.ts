import { describe, expect, it } from 'vitest';
import { epfsim } from './run-cli.js';

// The figures themselves are measured by `npm run bench`, never timed in a test.
describe('epfsim bench', () => {
  it('documents its flags', () => {
    const r = epfsim('bench', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--quick');
    expect(r.stdout).toContain('--json');
  });

  it('offers every figure the README reports to --figure, and refuses one past them', () => {
    expect(epfsim('bench', '--help').stdout).toContain('(repeatable; 1..11)');
    const r = epfsim('bench', '--figure', '12');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('epfsim bench: --figure: 12 is outside 1..11');
  });

  it('rejects an unknown flag in one line with exit 2', () => {
    const r = epfsim('bench', '--fast');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("'--fast'");
  });
});
