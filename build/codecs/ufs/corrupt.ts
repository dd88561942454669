/**
 * Typed errors for damaged images: every one names the on-disk structure
 * and the byte offset where the damage is (STYLE.md "Errors").
 */
import { type CodeWithStatus, type DogeError, dataError } from '../../core/errors.ts';

export type UfsStructure = 'superblock' | 'cg' | 'csum' | 'inode' | 'indirect' | 'block' | 'directory' | 'dirent' | 'image';

export function corrupt(
  code: CodeWithStatus<'dataErr'>,
  structure: UfsStructure,
  offsetBytes: number,
  message: string,
  details: Record<string, unknown> = {},
): DogeError {
  return dataError(code, `${structure} at byte ${offsetBytes}: ${message}`, {
    details: { structure, offsetBytes, ...details },
    hint: 'the image is damaged; run `dogeos archive check` on it for the full list of problems',
  });
}
