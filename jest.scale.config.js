/** `npm run test:scale`: two APIs and two workers behind nginx, killed under load. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/scale'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600_000,
};
