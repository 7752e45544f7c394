// Integration tests against the real stack (npm run stack:up): Apache Kafka and FerretDB.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'integration',
  testMatch: ['**/*.int-spec.ts'],
  testTimeout: 180000,
};
