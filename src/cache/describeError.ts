/** A short reason for logs: the error's message without anything that looks like credentials. */
export function describeError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^(\w*Error: )+/, '');
  return message.replace(/\/\/[^@\s/]*@/g, '//***@').slice(0, 200);
}
