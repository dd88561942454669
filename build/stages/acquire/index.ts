/** Public surface of the acquire stage. */
export {
  type AcquirePlatformOptions,
  type AcquirePlatformResult,
  acquirePlatform,
  type FetchPlatformOptions,
  type FetchPlatformResult,
  fetchPlatform,
} from './acquire.ts';
export { BlobCache } from '../../fetch/cache.ts';
export { type HttpOptions, DEFAULT_HTTP_OPTIONS } from '../../fetch/http.ts';
export { DEFAULT_BASE_URL, isStamp, platformTarballName } from './layout.ts';
export {
  compareInput,
  LOCK_FILE_NAME,
  type LockedInput,
  type LockFile,
  type LockMode,
  lockDrift,
  readLockFile,
  withInput,
  writeLockFile,
} from '../../fetch/lockfile.ts';
export { type ArtifactKind, type PlatformSource, parsePlatformSource } from './source.ts';
export { unpackPlatform } from './unpack.ts';
