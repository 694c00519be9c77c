import { describe, expect, it } from 'vitest';
import { EpcConfigError, EpcError } from '../../src/errors.js';
import { registerStrategy, strategyFor } from '../../src/strategies/index.js';
import { memMapStrategy } from '../../src/strategies/mem-map.js';
import { testbed } from '../helpers.js';

const RAM = { addr: 0x1000_0000n, size: 0x20_0000 };

function returning(result: unknown) {
  return { name: 'returns', transfer: () => result };
}

describe('a user strategy module', () => {
  it('is found by its key once registered, under its own name, and moves data like a built-in', () => {
    const key = '/tmp/user-loop.mjs';
    expect(strategyFor(key)).toBeUndefined();
    const s = registerStrategy(key, { name: 'user-loop', transfer: memMapStrategy.transfer });
    expect(strategyFor(key)).toBe(s);
    expect(s.name).toBe('user-loop');
    const { epc, host } = testbed('rk3399', [RAM]);
    // Across RK3399's 1 MiB block at 0x10100000: two partial maps.
    const data = Uint8Array.from({ length: 0x3000 }, (_, i) => i & 0xff);
    expect(s.transfer(epc, RAM.addr + 0xff800n, data, 'toHost')).toBeNull();
    const back = new Uint8Array(data.length);
    host.memory.read(RAM.addr + 0xff800n, back);
    expect(back).toEqual(data);
  });

  it('reports what it returns as the function reports its own errors', () => {
    const { epc } = testbed('generic', [RAM]);
    const run = (result: unknown) =>
      registerStrategy('/tmp/r.mjs', returning(result)).transfer(epc, RAM.addr, new Uint8Array(8), 'toHost');
    expect(run(undefined)).toBeNull();
    expect(run(null)).toBeNull();
    const own = new EpcError('EBUSY', 'slot taken');
    expect(run(own)).toBe(own);
    expect(run({ errno: 'ENOMEM', message: 'no window' })).toMatchObject({ errno: 'ENOMEM', message: 'no window' });
    // An errno the EPC API has no name for keeps its name in the message.
    expect(run({ errno: 'EIO', message: 'bus error' })).toMatchObject({ errno: 'EFAULT', message: 'EIO: bus error' });
    expect(run(new Error('lost'))).toMatchObject({ errno: 'EFAULT', message: 'lost' });
    expect(run(42)).toMatchObject({ errno: 'EINVAL', message: 'strategy returns returned 42, not null or an error' });
  });

  it('turns a throw into its own failure, not a crash of the function', () => {
    const { epc } = testbed('generic', [RAM]);
    const s = registerStrategy('/tmp/t.mjs', {
      name: 'thrower',
      transfer: () => {
        throw new TypeError('map is undefined');
      },
    });
    expect(s.transfer(epc, RAM.addr, new Uint8Array(8), 'fromHost')).toMatchObject({
      errno: 'EFAULT',
      message: 'strategy thrower threw: map is undefined',
    });
  });

  it('must have a transfer function', () => {
    expect(() => registerStrategy('/tmp/x.mjs', { name: 'x' })).toThrow(EpcConfigError);
    expect(() => registerStrategy('/tmp/x.mjs', null)).toThrow(/exports \{ name, transfer/);
  });
});
