export * from './decision-token';
