export * from './api-tokens';
export * from './auth.guard';
export * from './service-token';
