export * from './review-task.opener';
export * from './collections';
