/**
 * fast-check arbitraries for users' own tests: edge-biased host addresses, PRP and SGL layouts,
 * controller profiles, NVM commands, and a namespace model with commands for `fc.modelRun`.
 */
export * from './epc-profile.js';
export * from './host-address.js';
export * from './namespace-model.js';
export * from './nvm-command.js';
export * from './prp-layout.js';
export * from './sgl-layout.js';
