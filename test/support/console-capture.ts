/**
 * @module Every console line a test file produces (the Worker's, the Durable Objects' and the tests' own: they share
 * the isolate), kept while still printed, so test/setup.ts can check them for leaks once the file is done.
 */
const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const

export const capturedLines: string[] = []

function text(args: unknown[]): string {
  return args
    .map((arg) =>
      arg instanceof Error ? `${arg.name}: ${arg.message} ${arg.stack ?? ''}` : typeof arg === 'string' ? arg : JSON.stringify(arg),
    )
    .join(' ')
}

export function captureConsole(): void {
  for (const method of METHODS) {
    // biome-ignore lint/suspicious/noConsole: wrapping the console is the point (debug included)
    const original = console[method].bind(console)
    console[method] = (...args: unknown[]) => {
      capturedLines.push(text(args))
      original(...args)
    }
  }
}
