/** Types of scripts/build-verifier.mjs for the tests that import it. */
export declare const OUTPUTS: { js: string; types: string }
export declare function verifierFiles(): Promise<{ js: string; types: string }>
