/**
 * Text forms of serializers whose bytes are always UTF-8 text (`Serializer.json`
 * and its variants), so result records can be written and read without a
 * `TextEncoder` / `TextDecoder` round trip. Registered by `Serializer.ts` for
 * the serializers it builds; any other serializer has none and goes through its
 * byte `dumps` / `loads`.
 *
 * - `dumps(value)` is the text whose UTF-8 bytes `serializer.dumps(value)`
 *   succeeds with; it throws what `dumps` would fail with.
 * - `loads(text)` is `serializer.loads(utf8(text))` for a well-formed string
 *   (no lone surrogates): it strips a leading U+FEFF as `TextDecoder` strips a
 *   UTF-8 BOM, and throws what `loads` would fail with.
 *
 * The errors thrown are the ones the serializer's `dumps` / `loads` wrap in a
 * `SerializationError` (`message` = the error's message, `cause` = the error).
 *
 * @internal
 */

/** A serializer's text form; an absent member means that direction has no text form. */
export interface TextCodec {
  readonly dumps?: ((value: unknown) => string) | undefined
  readonly loads?: ((text: string) => unknown) | undefined
}

/** The text codec of each serializer that has one. */
export const textCodecs: WeakMap<object, TextCodec> = new WeakMap()
