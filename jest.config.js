// Unit and embedded-mode tests: no servers needed.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'unit',
  testMatch: ['**/*.spec.ts'],
  testTimeout: 20000,
};
