/**
 * @module What an admin token is made of: printable ASCII, no space (a header value carries nothing else). One rule
 * for the gateway's check, the CLI's and the console's, which refuse a malformed token by name before sending it.
 */
export function isAdminTokenShaped(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token)
}
