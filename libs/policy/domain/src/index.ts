export * from './baseline-policy';
export * from './decision.service';
export * from './collections';
