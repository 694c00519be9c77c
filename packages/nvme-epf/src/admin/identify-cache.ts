/** Identify data built once per function: nothing in it changes while the function lives (NVMe Base 1.4 §5.15). */
import type { IdentifyData } from '../command/context.js';
import type { NvmeFunctionConfig } from '../config.js';
import type { Namespace } from '../namespace/namespace.js';
import { buildIdentifyController, buildIdentifyNamespace } from './identify.js';

export class IdentifyCache implements IdentifyData {
  readonly #config: NvmeFunctionConfig;
  readonly #namespaces: readonly Namespace[];
  #controller: Uint8Array | undefined;
  readonly #byNsid = new Map<number, Uint8Array>();

  constructor(config: NvmeFunctionConfig, namespaces: readonly Namespace[]) {
    this.#config = config;
    this.#namespaces = namespaces;
  }

  get controller(): Uint8Array {
    this.#controller ??= buildIdentifyController({ config: this.#config, namespaces: this.#namespaces });
    return this.#controller;
  }

  namespace(ns: Namespace): Uint8Array {
    let data = this.#byNsid.get(ns.nsid);
    if (data === undefined) {
      data = buildIdentifyNamespace(ns);
      this.#byNsid.set(ns.nsid, data);
    }
    return data;
  }
}
