/** Types of build-dashboard.mjs, for the test that checks the committed bundle. */
export const BUNDLE_PATH: string
export function dashboardModule(): Promise<string>
export function dashboardSize(): Promise<{ files: { path: string; raw: number; gzip: number }[]; raw: number; gzip: number }>
