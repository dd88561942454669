/** Public surface of the acquire stage. */

export { BlobCache } from '../../fetch/cache.ts';
export { DEFAULT_HTTP_OPTIONS, type HttpOptions } from '../../fetch/http.ts';
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
export {
  type AcquirePlatformOptions,
  type AcquirePlatformResult,
  acquirePlatform,
  type FetchPlatformOptions,
  type FetchPlatformResult,
  fetchPlatform,
} from './acquire.ts';
export { DEFAULT_BASE_URL, isStamp, platformTarballName } from './layout.ts';
export { type ArtifactKind, type PlatformSource, parsePlatformSource } from './source.ts';
export { unpackPlatform } from './unpack.ts';
