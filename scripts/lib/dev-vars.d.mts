/** Types of dev-vars.mjs, for the admin CLI and the Node tests written in TypeScript. */
export const DEV_VARS_FILE: URL
export const DEFAULT_GATEWAY_PORT: number
export class DevVarsError extends Error {}
export function parseDevVars(text: string): Record<string, string>
export function readDevVarsIfPresent(file?: URL | string): Record<string, string>
export function gatewayPort(file?: URL | string): number
export function gatewayUrl(port?: number): string
export const DEFAULT_STANDIN_PORT: number
export function standinPort(file?: URL | string): number
export function standinUrl(port?: number): string
export const DEFAULT_LISTEN_PORT: number
export const LISTEN_PATH: string
export function listenPort(file?: URL | string): number
export function listenUrl(port?: number): string
