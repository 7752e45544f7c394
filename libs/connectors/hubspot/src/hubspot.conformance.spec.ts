import { describeConformance } from '@mandate/connector-conformance';
import { hubspotHarness } from './testing';
describeConformance('hubspot', hubspotHarness);
