export {
  salesforceHarness,
  fakeSchema,
  SALESFORCE_SAMPLES,
  FAKE_USERS,
  RECIPIENT_CONTACT_ID,
  type SalesforceHarness,
  type SalesforceHarnessOptions,
} from './harness';
export {
  FakeSalesforce,
  type FakeError,
  type FakeSalesforceOptions,
  type RequestLogEntry,
  type SfRecord,
} from './fake-salesforce';
export { parseSoql, type SoqlQuery } from './fake-soql';
