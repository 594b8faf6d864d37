/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite (npm run test:faults), the load soaks (npm run test:load), the contract
  // fuzzer (npm run test:contract) and the replicas behind the balancer (npm run test:scale) run on their own.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/', '<rootDir>/test/load/', '<rootDir>/test/contract/', '<rootDir>/test/scale/'],
  transform: {
    // tsconfig.json sets isolatedModules: ts-jest transpiles each file alone (the typecheck is `npm run typecheck`).
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // ESM-only dependencies of light-my-request and @fastify/swagger-ui, compiled to CommonJS for Jest.
    'node_modules/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(cookie|content-disposition)/)'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 60_000,
  // One Temporal core runtime per process: the suites share one worker process.
  maxWorkers: 1,
};
