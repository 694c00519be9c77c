import { BUILTIN_PROFILES, type EpcProfile, hex } from '@epfsim/epc-core';
import { isModulePath, loadPlugin } from '../../host/plugins/user-modules.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { resolveProfile } from './resolve-profile.js';
import { UsageError } from './usage-error.js';

export const PROFILES_HELP = `usage: epfsim profiles [NAME|FILE.json|FILE.mjs] [--json]

Lists the built-in controller profiles, or describes one (a built-in name, a JSON
profile file or a profile module, which is validated). --json prints { version, profiles: [...] }
(docs/json/profiles.schema.json).`;

/** `epfsim profiles`: list or describe controller profiles. */
export async function profilesCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const flag = args.find((a) => a.startsWith('-'));
  if (flag !== undefined)
    throw new UsageError(`unknown option '${flag}' (profiles takes names, .json files or .mjs modules, and --json)`);
  const keys = [];
  for (const a of args) keys.push(isModulePath(a) ? await loadPlugin('profile', a) : a);
  const profiles = args.length === 0 ? BUILTIN_PROFILES : keys.map(resolveProfile);
  if (ctx.json) {
    ctx.out(JSON.stringify({ version: JSON_OUTPUT_VERSION, profiles }, null, 2));
  } else if (args.length === 0) {
    const width = Math.max(...profiles.map((p) => p.name.length));
    for (const p of profiles) ctx.out(`${p.name.padEnd(width)}  ${p.description}`);
  } else {
    for (const p of profiles) ctx.out(describe(p));
  }
  return 0;
}

function describe(p: EpcProfile): string {
  const lines = [`${p.name}: ${p.description}`, '  outbound windows:'];
  // Runs of equal, back-to-back windows (RK3399's 32 regions) print as one line.
  for (let i = 0; i < p.windows.length; ) {
    const w = p.windows[i]!;
    let n = 1;
    while (p.windows[i + n]?.size === w.size && p.windows[i + n]?.physBase === w.physBase + n * w.size) n++;
    lines.push(`    ${n > 1 ? `${n} x ` : ''}${hex(w.physBase)} size ${hex(w.size)} page ${hex(w.pageSize)}`);
    i += n;
  }
  const a = p.align;
  lines.push(
    `  align_addr: ${
      a.kind === 'none'
        ? 'none (identity)'
        : a.kind === 'dwc'
          ? `DWC, region_align ${hex(a.regionAlign)}, padded to the window page`
          : a.kind === 'custom'
            ? `the profile module's own alignAddr (${a.key})`
            : `pass-through bits ${a.minBits}..${a.maxBits}, truncated at 2^${a.maxBits}, sizes ${a.sizeGranule === 'pow2' ? 'powers of two' : `rounded to ${a.sizeGranule}`}`
    }`,
  );
  const t = p.atu;
  lines.push(
    `  translation: ${
      t.kind === 'dwc'
        ? `${t.slots} iATU slots, base aligned to ${hex(t.regionAlign)}, no crossing of ${hex(t.regionLimit)}`
        : t.kind === 'cadence'
          ? `${t.maxRegions} regions (${t.maxRegions - 2} usable for data)`
          : t.kind
    }`,
  );
  const irq = (['msi', 'msix', 'intx'] as const).filter((k) => p.irq[k]).join(', ');
  lines.push(
    `  interrupts: ${irq}; messages ${p.irq.mapping}`,
    `  BAR alignment: ${hex(p.barAlign)}; eDMA: ${p.hasDma ? 'yes' : 'no'}`,
  );
  return lines.join('\n');
}
