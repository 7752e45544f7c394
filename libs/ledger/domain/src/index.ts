export * from './merkle';
export * from './checkpoint';
export * from './verify';
export * from './shredding';
export * from './log';
export * from './monitor';
