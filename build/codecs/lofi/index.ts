/** lofi compressed images (`lofiadm -C`, SmartOS /usr.lgz): see README.md. */
export {
  DEFAULT_SEGMENT_BYTES,
  LOFI_ALGORITHMS,
  type LofiAlgorithm,
  type LofiHeader,
  type ParseLimits,
  parseAlgorithm,
  parseHeader,
  serializeHeader,
} from './format.ts';
export {
  LofiImage,
  type LofiInfo,
  type LofiSummary,
  lofiInfo,
  type OpenLofiOptions,
  openLofi,
  unpackLofi,
  unpackLofiTo,
} from './reader.ts';
export {
  encodeSegment,
  type LofiSink,
  type LofiWriteAlgorithm,
  type PackLofiOptions,
  type PackResult,
  packLofi,
  packLofiTo,
} from './writer.ts';
