/** Types of build-dashboard.mjs, for the test that checks the committed bundle. */
type DashboardFiles = Record<string, { type: string; body: string }>
export const BUNDLE_PATH: string
export function buildDashboardFiles(): Promise<DashboardFiles>
export function dashboardModule(built?: DashboardFiles): Promise<string>
export function dashboardSize(
  built?: DashboardFiles,
): Promise<{ files: { path: string; raw: number; gzip: number }[]; raw: number; gzip: number }>
