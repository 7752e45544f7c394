export {
  BUNDLE_POINTER_ID,
  BundleIntegrityError,
  BundleNotFoundError,
  BundleStore,
  MAX_BUNDLE_BYTES,
  MAX_POINTER_ATTEMPTS,
  POLICY_BUNDLE_POINTER,
  POLICY_BUNDLES,
  isPolicyAdmin,
} from './bundle-store';
export type {
  BundleFileEntry,
  BundlePointerDoc,
  BundlePointerRef,
  BundlePointerResult,
  BundlePushResult,
  BundleRefusal,
  BundleRefusalCode,
  BundleSeedResult,
  StoredBundleDoc,
  StoredBundleSummary,
} from './bundle-store';
export { checkBundle, checkBundleFiles, type BundleCheck } from './bundle-check';
export { BundleSync } from './bundle-sync';
export type {
  BundleSyncLogEntry,
  BundleSyncOptions,
  BundleSyncOutcome,
  BundleSyncStatus,
} from './bundle-sync';
