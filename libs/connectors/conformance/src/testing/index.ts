export * from './reference-crm';
