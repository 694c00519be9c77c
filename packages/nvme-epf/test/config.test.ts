/** Configuration: defaults and typed errors for impossible values (never host input). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, isNvmeConfigError, type NvmeFunctionConfigInput, resolveConfig } from '../src/index.js';

describe('configuration', () => {
  it('defaults follow the issue', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({
      strategy: 'mem-map',
      maxIoQueues: 64,
      mqes: 1023,
      mdtsBytes: 512 * 1024,
      dstrd: 0,
      irq: 'msix',
      msixVectors: 65,
      arbitrationBurst: 8,
    });
    expect(c.namespaces).toEqual([{ blockSize: 512, blocks: 2 * 1024 * 1024, backend: { kind: 'ram' } }]);
    expect(c.options).toEqual({
      prpChainPointerOffset: 'strict',
      checkPrpListQword: true,
      checkPrp1Dword: true,
      sglSegmentChainEnd: 'strict',
      bitBucketOnWrite: 'reject',
      deleteCqInvalidQid: 'spec',
      sglSupport: 'byte',
      sglBitBucket: true,
      sglExcessLength: false,
    });
    expect(DEFAULT_CONFIG.namespaces).toHaveLength(1);
  });

  const bad: [string, NvmeFunctionConfigInput][] = [
    ['strategy', { strategy: 'warp' as never }],
    ['maxIoQueues', { maxIoQueues: 0 }],
    ['mqes', { mqes: 0 }],
    ['mqes', { mqes: 65536 }],
    ['mdtsBytes', { mdtsBytes: 3000 }],
    ['mdtsBytes', { mdtsBytes: 2048 }],
    ['dstrd', { dstrd: 16 }],
    ['namespaces', { namespaces: [] }],
    ['namespaces[0].blockSize', { namespaces: [{ blockSize: 1024 as 512, blocks: 8, backend: { kind: 'ram' } }] }],
    ['namespaces[0].blocks', { namespaces: [{ blockSize: 4096, blocks: 2 ** 42, backend: { kind: 'ram' } }] }],
    ['irq', { irq: 'pin' as never }],
    ['msixVectors', { msixVectors: 0 }],
    ['arbitrationBurst', { arbitrationBurst: 3 }],
    ['serial', { serial: 'x'.repeat(21) }],
    ['options.deleteCqInvalidQid', { options: { deleteCqInvalidQid: 'linux' as never } }],
  ];
  for (const [field, input] of bad) {
    it(`rejects a bad ${field}`, () => {
      let error: unknown;
      try {
        resolveConfig(input);
      } catch (e) {
        error = e;
      }
      expect(isNvmeConfigError(error)).toBe(true);
      if (!isNvmeConfigError(error)) return;
      expect(error.path).toBe(field);
      expect(error.field).toBe(field);
      expect(error.isUserError).toBe(true);
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.message).not.toContain('\n');
    });
  }
});
