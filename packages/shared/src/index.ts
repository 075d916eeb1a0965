export * from './flow/schema.js';
export * from './flow/migrations.js';
export * from './flow/parse.js';
export * from './flow/graph.js';
export * from './flow/json-schema.js';
export * from './events/schema.js';
export * from './events/reduce.js';
export * from './events/ndjson.js';
