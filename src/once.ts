/** A value built at its first use, then kept: zod schemas that a command's start should not pay for. */
export function once<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
