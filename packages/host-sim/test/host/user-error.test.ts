/** Every package's user error has the one shape the CLI reports: the brand, a path, a one-line message. */
import { createEpc, EpcConfigError, findProfile, HostAddressSpace, parseProfile } from '@epfsim/epc-core';
import { createNvmeFunction, NvmeConfigError } from '@epfsim/nvme-epf';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/front/cli/usage-error.js';
import { NbdServerError } from '../../src/front/nbd/nbd-server-error.js';
import { HostSimConfigError, PlacementError } from '../../src/host/errors.js';
import { isUserError } from '../../src/host/user-error.js';
import { parseCaseFile } from '../../src/runs/case-file/parse-case-file.js';
import { mergeShards } from '../../src/runs/fuzz/merge-shards.js';
import { parseIolog } from '../../src/runs/trace/parse-iolog.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the user-error shape', () => {
  const epc = () => createEpc(findProfile('generic')!, new HostAddressSpace());
  it.each([
    ['a flag', new UsageError('--size: -1 is not a size'), '--size'],
    ['a host option', new HostSimConfigError('BAD_OPTION', '--queues: 0 is outside 1..64'), '--queues'],
    ['a placement', new PlacementError('TOO_LARGE', 'spdk cannot describe 2 MiB'), ''],
    ['a server option', new NbdServerError('LISTEN', '--socket: /tmp/x is in use'), '--socket'],
    ['a profile field', thrown(() => parseProfile({ extends: 'dwc', bogus: 1 }, 'my')), 'my.bogus'],
    ['a controller field', thrown(() => createNvmeFunction(epc(), { mqes: 0 })), 'mqes'],
    [
      'a case-file field',
      thrown(() => parseCaseFile({ kind: 'epfsim-case', version: 2, stepz: [] }, 'c.json')),
      'c.json',
    ],
    ['a trace line', thrown(() => parseIolog('fio version 2 iolog\nnonsense here\n', 't.log')), 't.log:2'],
    ['a shard set', thrown(() => mergeShards([])), ''],
  ])('%s', (_, error, path) => {
    expect(isUserError(error)).toBe(true);
    const e = error as Error & { path: string };
    expect(e.path.startsWith(path)).toBe(true);
    expect(e.message.startsWith(e.path)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  it('is not an internal error, nor an error that merely carries a path', () => {
    expect(isUserError(new RangeError('invariant'))).toBe(false);
    expect(isUserError(Object.assign(new Error('x'), { path: 'p' }))).toBe(false);
    expect(isUserError({ isUserError: true, path: '', message: 'not an Error' })).toBe(false);
    expect(new EpcConfigError('a', 'b')).toMatchObject({ isUserError: true, path: 'a', message: 'a: b' });
    expect(new NvmeConfigError('mqes', 'too small')).toMatchObject({ isUserError: true, path: 'mqes' });
  });
});
