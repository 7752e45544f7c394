export * from './port';
export * from './config';
export * from './tool-validation';
export * from './openai-gateway';
export { RouteViolationError } from './route-fetch';
export * from './offline-model';
