/**
 * Type-level tests of the error registry, checked by `make typecheck` (tsc
 * covers test/): each `@ts-expect-error` line must fail to compile, or tsc
 * reports the directive as unused. Never run.
 */
import { DogeError, dataError } from '../../build/core/errors.ts';

// Checked by `make typecheck` (tsc covers test/): each line below must fail to compile.
export function unregisteredCodesDoNotTypecheck(): void {
  // @ts-expect-error not a registered code
  dataError('NOT_A_REGISTERED_CODE', 'x');
  // @ts-expect-error registered, but as a config error (78), not data (65)
  dataError('CONFIG_INVALID', 'x');
  // @ts-expect-error the status restated in the options disagrees with the registry
  new DogeError({ code: 'USAGE', status: 'dataErr', message: 'x' });
}
