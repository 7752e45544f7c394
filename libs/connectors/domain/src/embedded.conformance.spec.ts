import { describeConformance } from '@mandate/connector-conformance';
import { embeddedHarness } from './testing';

describeConformance('embedded', embeddedHarness);
