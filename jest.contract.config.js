/** `npm run test:contract`: Schemathesis, an outside fuzzer, against the real stack's OpenAPI document. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/contract'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 900_000,
};
