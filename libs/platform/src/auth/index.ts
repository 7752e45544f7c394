export * from './api-tokens';
export * from './auth.guard';
