/** `npm run test:load`: the 60-second soaks under load from a second process. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/load'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 600_000,
};
