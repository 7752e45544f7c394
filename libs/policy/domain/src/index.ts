export * from './baseline-policy';
export * from './decision.service';
export * from './collections';
export * from './engine/decision-input';
export * from './engine/record-reader';
