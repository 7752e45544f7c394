import { describeConformance } from '@mandate/connector-conformance';
import { salesforceHarness } from './testing';
describeConformance('salesforce', salesforceHarness);
