/**
 * Every `--json` document the CLI prints carries `version`: the version of its layout, which
 * docs/json/<command>.schema.json describes. It changes only when a field changes meaning or
 * goes away; new fields may appear without a new version.
 */
export const JSON_OUTPUT_VERSION = 1;
