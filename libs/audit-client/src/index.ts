export * from './audit-record.factory';
